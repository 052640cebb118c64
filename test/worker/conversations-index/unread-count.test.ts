// The list's businessUnreadCount, kept on the conversation's index row (migrations/0017): exact
// whatever order the index's jobs arrive in, however often they are retried, and read with the
// row, never counted over the conversation's messages.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import worker from "../../../src/index";
import { businessReadStatement, foldIndexedStatements, indexMessageStatements } from "../../../src/db/conversation-index";
import { countingEnv, emptyTally } from "../support/billing";
import { BASE, call, createApp, freshUser, hexId, type TestApp } from "../support/helpers";

/** An index job's statements for a message of `appUserId`, as the index channel writes them (no queue: the test sets the order). */
const indexing = (owner: TestApp, appUserId: string, received: number, role = "appUser", messageId = hexId()) =>
  indexMessageStatements(env.DB, {
    appId: owner.appId,
    appUserId,
    messageId,
    role,
    received,
    json: JSON.stringify({ _id: messageId, type: "text", text: `at ${received}`, role, authorId: appUserId, received }),
    avatarUrl: null,
    triage: null,
  });

const unreadOf = async (owner: TestApp, appUserId: string) => {
  const { json } = await call("GET", "/v1/conversations?status=all", owner.server);
  return json.conversations.find((entry: any) => entry.appUser._id === appUserId)?.businessUnreadCount as number | undefined;
};

/** The count as the list used to compute it: the appUser messages after the row's read mark. */
const recounted = async (appUserId: string) =>
  (await env.DB.prepare(
    `SELECT COUNT(*) AS n FROM conversation_messages m JOIN conversation_index c USING (app_user_id)
     WHERE m.app_user_id = ? AND m.role = 'appUser' AND m.received > c.business_read_at`,
  )
    .bind(appUserId)
    .first<number>("n"))!;

/** D1 takes at most this many statements per batch here without slowing the test. */
const inBatches = async (statements: D1PreparedStatement[]) => {
  for (let i = 0; i < statements.length; i += 500) await env.DB.batch(statements.slice(i, i + 500));
};

describe("the unread count", () => {
  it("counts every message of a conversation never read, and the list reads it without walking them", async () => {
    const owner = await createApp("unread many");
    const user = await freshUser(owner);
    const messages = 1_500;
    await inBatches(Array.from({ length: messages }, (_, i) => indexing(owner, user.id, 1_000 + i, i % 3 === 2 ? "appMaker" : "appUser")).flat());
    expect(await unreadOf(owner, user.id)).toBe(1_000);

    const tally = emptyTally();
    const ctx = createExecutionContext();
    const response = await worker.fetch!(new Request(`${BASE}/v1/conversations`, { headers: owner.server }) as never, countingEnv(env, tally), ctx);
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(200);
    // The app token, the page's one row, its newest message: nothing that grows with the conversation.
    expect(tally.d1RowsRead).toBeLessThan(20);
  });

  it("drops to 0 when the business reads, and counts what comes after", async () => {
    const owner = await createApp("unread read");
    const user = await freshUser(owner);
    await env.DB.batch([...indexing(owner, user.id, 100), ...indexing(owner, user.id, 110)]);
    expect(await unreadOf(owner, user.id)).toBe(2);
    await businessReadStatement(env.DB, user.id, 120).run();
    expect(await unreadOf(owner, user.id)).toBe(0);
    await env.DB.batch([...indexing(owner, user.id, 130), ...indexing(owner, user.id, 140, "appMaker")]);
    expect(await unreadOf(owner, user.id)).toBe(1);
  });

  it("stays exact when the read and the messages reach the index out of order", async () => {
    const owner = await createApp("unread order");
    const user = await freshUser(owner);
    await env.DB.batch([...indexing(owner, user.id, 100), ...indexing(owner, user.id, 200), ...indexing(owner, user.id, 210)]);
    // A read at 150 arriving after the messages of 200 and 210: those two stay unread.
    await businessReadStatement(env.DB, user.id, 150).run();
    expect(await unreadOf(owner, user.id)).toBe(2);
    // A message from before the read arriving after it is read already.
    await env.DB.batch(indexing(owner, user.id, 140));
    expect(await unreadOf(owner, user.id)).toBe(2);
    // An older read, late, changes nothing.
    await businessReadStatement(env.DB, user.id, 120).run();
    expect(await unreadOf(owner, user.id)).toBe(2);
    expect(await recounted(user.id)).toBe(2);
  });

  it("does not count a retried (duplicate) index job twice", async () => {
    const owner = await createApp("unread retry");
    const user = await freshUser(owner);
    const messageId = hexId();
    await env.DB.batch(indexing(owner, user.id, 100, "appUser", messageId));
    await env.DB.batch(indexing(owner, user.id, 100, "appUser", messageId));
    // Both in one batch, too, as the consumer's group commit may put them.
    await env.DB.batch([...indexing(owner, user.id, 100, "appUser", messageId), ...indexing(owner, user.id, 100, "appUser", messageId)]);
    expect(await unreadOf(owner, user.id)).toBe(1);
  });

  it("loses an erased unread message, and keeps the count when a read one is erased", async () => {
    const owner = await createApp("unread erase");
    const user = await freshUser(owner);
    const post = async (text: string) => (await call("POST", `/v1/appusers/${user.id}/messages`, owner.server, { body: { role: "appUser", text } })).json.message;
    const first = await post("one");
    await vi.waitUntil(async () => (await unreadOf(owner, user.id)) === 1, { timeout: 5_000, interval: 25 });
    expect((await call("POST", `/v1/appusers/${user.id}/conversation/read`, owner.server, { body: { role: "appMaker" } })).status).toBe(200);
    await vi.waitUntil(async () => (await unreadOf(owner, user.id)) === 0, { timeout: 5_000, interval: 25 });
    const second = await post("two");
    await post("three");
    await vi.waitUntil(async () => (await unreadOf(owner, user.id)) === 2, { timeout: 5_000, interval: 25 });

    expect((await call("DELETE", `/v1/appusers/${user.id}/messages/${second._id}`, owner.server)).status).toBe(200);
    expect(await unreadOf(owner, user.id)).toBe(1);
    expect((await call("DELETE", `/v1/appusers/${user.id}/messages/${first._id}`, owner.server)).status).toBe(200);
    expect(await unreadOf(owner, user.id)).toBe(1);
  });

  it("sums on a merge, with the messages the earlier read mark makes unread again", async () => {
    const owner = await createApp("unread merge");
    const survivor = await freshUser(owner);
    const merged = await freshUser(owner);
    await env.DB.batch([...indexing(owner, survivor.id, 50), ...indexing(owner, survivor.id, 150)]);
    await businessReadStatement(env.DB, survivor.id, 100).run();
    await env.DB.batch([120, 180, 250, 260].flatMap((at, i) => indexing(owner, merged.id, at, i === 1 ? "appMaker" : "appUser")));
    await businessReadStatement(env.DB, merged.id, 200).run();
    expect([await unreadOf(owner, survivor.id), await unreadOf(owner, merged.id)]).toEqual([1, 2]);

    await env.DB.batch(foldIndexedStatements(env.DB, merged.id, survivor.id));
    // Read up to 100, the earlier mark: 150 of the survivor's, and 120, 250 and 260 of the merged user's.
    expect(await unreadOf(owner, survivor.id)).toBe(4);
    expect(await recounted(survivor.id)).toBe(4);
  });

  it("takes the merged user's count for a survivor with no indexed conversation", async () => {
    const owner = await createApp("unread merge new");
    const survivor = await freshUser(owner);
    const merged = await freshUser(owner);
    await env.DB.batch([...indexing(owner, merged.id, 100), ...indexing(owner, merged.id, 200)]);
    await businessReadStatement(env.DB, merged.id, 150).run();
    await env.DB.batch(foldIndexedStatements(env.DB, merged.id, survivor.id));
    expect(await unreadOf(owner, survivor.id)).toBe(1);
  });
});
