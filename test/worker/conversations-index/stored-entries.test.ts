// Each indexed conversation's list entry is stored on its row (migrations/0018) and kept by
// triggers: every change of what an entry shows reaches the list at once, as the entry read live
// for one user (PUT .../conversation answers with it) shows it.
import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { account, call, createApp, freshUser, type TestApp } from "../support/helpers";
import { listedEntry as listed, postMessage as post } from "../support/conversation-index";


/** The entry as read live for one user: what the stored one must equal. */
const live = async (owner: TestApp, appUserId: string, body: object = { status: "open" }) => {
  const response = await call("PUT", `/v1/appusers/${appUserId}/conversation`, owner.server, { body });
  expect(response.status, JSON.stringify(response.json)).toBe(200);
  return response.json.conversation;
};

/** Every stored entry (and user) is what the view conversation_entries defines, read now. */
async function expectNoneStale() {
  const stale = await env.DB.prepare(
    `SELECT COUNT(*) AS n FROM conversation_index c JOIN conversation_entries e ON e.app_user_id = c.app_user_id
     WHERE c.entry IS NOT e.entry OR c.user_json IS NOT e.user_json`,
  ).first<{ n: number }>();
  expect(stale?.n).toBe(0);
}

const indexedEntry = (owner: TestApp, appUserId: string) => vi.waitUntil(() => listed(owner, appUserId), { timeout: 5_000, interval: 25 });

describe("stored list entries", () => {
  it("follow the user's profile and properties, a change of letter case included", async () => {
    const owner = await createApp("entries profile");
    const user = await freshUser(owner, { givenName: "ana", properties: { plan: "free" } });
    await post(owner, user.id, "hello");
    await indexedEntry(owner, user.id);
    const update = await call("PUT", `/v1/appusers/${user.id}`, owner.server, { body: { givenName: "Ana", surname: "Lima", properties: { plan: "pro" } } });
    expect(update.status).toBe(200);
    const entry = await listed(owner, user.id);
    expect(entry.appUser).toMatchObject({ givenName: "Ana", surname: "Lima", properties: { plan: "pro" } });
    expect(entry).toEqual(await live(owner, user.id));
    await expectNoneStale();
  });

  it("show the assignee by the agent's name while it is an agent, by address once it is not", async () => {
    const owner = await createApp("entries agent");
    const auth = await account();
    const created = await call("POST", `/v1/apps/${owner.appId}/agents`, auth, { body: { email: "cy@example.com", name: "Cy" } });
    expect(created.status).toBe(201);
    const user = await freshUser(owner);
    await post(owner, user.id, "help");
    await indexedEntry(owner, user.id);
    await live(owner, user.id, { assignee: "cy@example.com" });
    expect((await listed(owner, user.id)).assignee).toEqual({ email: "cy@example.com", name: "Cy" });
    expect((await call("DELETE", `/v1/apps/${owner.appId}/agents/${created.json.agent._id}`, auth)).status).toBe(200);
    expect((await listed(owner, user.id)).assignee).toEqual({ email: "cy@example.com", name: "cy@example.com" });
    expect((await call("POST", `/v1/apps/${owner.appId}/agents`, auth, { body: { email: "cy@example.com", name: "Cyrus" } })).status).toBe(201);
    expect((await listed(owner, user.id)).assignee).toEqual({ email: "cy@example.com", name: "Cyrus" });
    await expectNoneStale();
  });

  it("show the newest message, its activity, state and unread count as the live entry does, through messages erased", async () => {
    const owner = await createApp("entries messages");
    const user = await freshUser(owner);
    const first = await post(owner, user.id, "first");
    await post(owner, user.id, "answer", "appMaker");
    const newest = await post(owner, user.id, "newest");
    await vi.waitUntil(async () => (await listed(owner, user.id))?.lastMessage._id === newest._id, { timeout: 5_000, interval: 25 });
    expect(await listed(owner, user.id)).toMatchObject({ businessUnreadCount: 2, lastActivity: newest.received, status: "open" });
    expect(await listed(owner, user.id)).toEqual(await live(owner, user.id));

    expect((await call("DELETE", `/v1/appusers/${user.id}/messages/${newest._id}`, owner.server)).status).toBe(200);
    const entry = await listed(owner, user.id);
    expect(entry.lastMessage.text).toBe("answer");
    expect(entry.businessUnreadCount).toBe(1);
    expect(first.received).toBeLessThan(entry.lastActivity);
    const closed = await live(owner, user.id, { status: "closed" });
    expect(closed.status).toBe("closed");
    expect(await listed(owner, user.id)).toEqual(closed);
    await expectNoneStale();
  });

  it("stay exact when older messages the business has read are erased, and then the newest", async () => {
    const owner = await createApp("entries history");
    const user = await freshUser(owner);
    const old = await post(owner, user.id, "old question");
    const answer = await post(owner, user.id, "answer", "appMaker");
    const newest = await post(owner, user.id, "newest");
    await vi.waitUntil(async () => (await listed(owner, user.id))?.lastMessage._id === newest._id, { timeout: 5_000, interval: 25 });
    expect((await call("POST", `/v1/appusers/${user.id}/conversation/read`, owner.server, { body: { role: "appMaker" } })).status).toBe(200);
    await vi.waitUntil(async () => (await listed(owner, user.id)).businessUnreadCount === 0, { timeout: 5_000, interval: 25 });

    for (const erased of [old, answer]) {
      expect((await call("DELETE", `/v1/appusers/${user.id}/messages/${erased._id}`, owner.server)).status).toBe(200);
      expect((await listed(owner, user.id)).lastMessage._id).toBe(newest._id);
      await expectNoneStale();
    }
    expect((await call("DELETE", `/v1/appusers/${user.id}/messages/${newest._id}`, owner.server)).status).toBe(200);
    expect(await listed(owner, user.id)).toBeUndefined();
    await expectNoneStale();
  });
});
