import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  account,
  appWithWebhooks,
  call,
  conversationOf,
  createApp,
  deliveredRecord,
  expectAppUserRefusals,
  expectError,
  freshUser,
  hexId,
  holdOutboxAlarms,
  interceptFetch,
  outboxJobs,
  textMessages,
  type TestApp,
} from "../support/helpers";

const TARGET = "https://hooks.example.com/reads";

let app: TestApp;
let other: TestApp;
let serial = 0;

beforeAll(async () => {
  [app, other] = await Promise.all([createApp("reads"), createApp("another app")]);
});

afterEach(() => {
  vi.restoreAllMocks();
});

const newUser = (owner: TestApp = app, profile: Record<string, unknown> = {}) => freshUser(owner, profile);

async function say(id: string, role: "appUser" | "appMaker", text: string, owner: TestApp = app) {
  const response = await call("POST", `/v1/appusers/${id}/messages`, role === "appUser" ? owner.token : owner.server, { body: { role, text } });
  expect(response.status, JSON.stringify(response.json)).toBe(201);
  return response.json;
}

const read = (id: string, auth: Record<string, string>, body?: unknown, path = `/v1/appusers/${id}/conversation/read`) =>
  call("POST", path, auth, body === undefined ? {} : { body });

const unreadOf = async (id: string) => (await call("GET", `/v1/appusers/${id}/conversation`, app.token)).json.conversation.unreadCount;

describe("unreadCount", () => {
  it("counts the appMaker messages since the app user's last read, in every conversation object", async () => {
    const { id } = await newUser();
    expect((await say(id, "appUser", "hello")).conversation.unreadCount).toBe(0);
    expect((await say(id, "appMaker", "hi")).conversation.unreadCount).toBe(1);
    expect((await say(id, "appMaker", "how can we help?")).conversation.unreadCount).toBe(2);
    expect((await say(id, "appUser", "a question")).conversation.unreadCount).toBe(2);
    expect(await unreadOf(id)).toBe(2);
  });

  it("comes with GET messages in a conversation without messages, as the 3.x web messenger reads it", async () => {
    const { id } = await newUser();
    const before = await call("GET", `/v1/appusers/${id}/messages`, app.token);
    expect(before.status).toBe(200);
    expect(before.json).toEqual({ conversation: { _id: expect.stringMatching(/^[0-9a-f]{24}$/), appMakers: [], appUsers: [id], unreadCount: 0 }, messages: [] });
    const posted = await say(id, "appMaker", "hi");
    const after = await call("GET", `/v1/appusers/${id}/messages`, app.token);
    const { messages: _messages, ...summary } = posted.conversation;
    expect(after.json.conversation).toEqual({ ...summary, unreadCount: 1 });
    expect(after.json.conversation._id).toBe(before.json.conversation._id);
    expect(after.json.messages).toEqual([posted.message]);
  });

  it("counts every appMaker message of a conversation stored before read markers existed", async () => {
    const { id } = await newUser();
    const stub = await conversationOf(id);
    const legacy = [...textMessages(id, 2), ...textMessages(app.appId, 3).map((m) => ({ ...m, role: "appMaker" }))];
    await runInDurableObject(stub, (_instance, state) => {
      legacy.forEach((m, i) => state.storage.sql.exec("INSERT INTO messages (received_ms, id, body) VALUES (?, ?, ?)", i + 1, m._id, JSON.stringify(m)));
    });
    await evictDurableObject(stub);
    expect(await unreadOf(id)).toBe(3);
  });

  it("is kept as stored when a read's transaction fails after marking the read", async () => {
    const { id } = await newUser();
    await say(id, "appMaker", "one");
    const stub = await conversationOf(id);
    // A webhook listens, and its payload cannot be serialised: the outbox write, which comes
    // after the read markers' in the same transaction, throws and rolls both back.
    const fanout = { webhooks: [{ id: hexId(), triggers: ["conversation:read"] }], appUser: { unserialisable: 1n } };
    await runInDurableObject(stub, async (instance) => {
      await expect(instance.markRead({ role: "appUser", conversationId: "c" }, { webhook: fanout } as never)).rejects.toThrow(/BigInt/);
      expect(instance.newest().unreadCount).toBe(1);
    });
    expect(await unreadOf(id)).toBe(1);
  });

  it("is counted again when a merge brings in appMaker messages", async () => {
    const { id } = await newUser();
    await say(id, "appMaker", "one");
    const stub = await conversationOf(id);
    const moving = [...textMessages(app.appId, 2, "merged").map((m) => ({ ...m, role: "appMaker" as const, received: 1 + m.text.length / 1000 }))];
    await stub.absorb(moving, hexId(), id);
    expect(await unreadOf(id)).toBe(3);
  });
});

describe("POST /v1/appusers/{id}/conversation/read", () => {
  it.each([
    ["the app token", () => Promise.resolve(app.token)],
    ["the user's own JWT", (userId: string) => app.user(userId)],
    ["an app JWT", () => Promise.resolve(app.server)],
  ])("with %s and no body reads as the app user: unreadCount drops to 0", async (_, auth) => {
    const { id, userId } = await newUser();
    await say(id, "appMaker", "one");
    await say(id, "appMaker", "two");
    const response = await read(id, await auth(userId));
    expect(response.status, JSON.stringify(response.json)).toBe(200);
    expect(response.json).toEqual({});
    expect(await unreadOf(id)).toBe(0);
    expect((await say(id, "appMaker", "three")).conversation.unreadCount).toBe(1);
  });

  it("takes an empty JSON body, as the web messengers send it, and role appUser", async () => {
    const { id } = await newUser();
    await say(id, "appMaker", "one");
    const empty = await call("POST", `/v1/appusers/${id}/conversation/read`, { ...app.token, "content-type": "application/json" }, { raw: "" });
    expect(empty.status, JSON.stringify(empty.json)).toBe(200);
    await say(id, "appMaker", "two");
    expect((await read(id, app.token, { role: "appUser" })).status).toBe(200);
    expect(await unreadOf(id)).toBe(0);
  });

  it("reads as the business with role appMaker and app scope, leaving the app user's count", async () => {
    const { id } = await newUser();
    await say(id, "appMaker", "one");
    await say(id, "appUser", "question");
    expect((await read(id, app.server, { role: "appMaker" })).status).toBe(200);
    const viaAccount = await read(id, await account(), { role: "appMaker" }, `/v1/apps/${app.appId}/appusers/${id}/conversation/read`);
    expect(viaAccount.status, JSON.stringify(viaAccount.json)).toBe(200);
    expect(await unreadOf(id)).toBe(1);
  });

  it.each([
    ["the app token", () => Promise.resolve(app.token)],
    ["the user's own JWT", (userId: string) => app.user(userId)],
  ])("refuses role appMaker with %s (403)", async (_, auth) => {
    const { id, userId } = await newUser();
    await say(id, "appMaker", "one");
    expectError(await read(id, await auth(userId), { role: "appMaker" }), 403);
    expect(await unreadOf(id)).toBe(1);
  });

  it("answers 200 and changes nothing in a conversation without messages", async () => {
    holdOutboxAlarms();
    const owner = await createApp("reads of nothing");
    await call("POST", "/v1/webhooks", owner.server, { body: { target: TARGET, triggers: ["conversation:read"] } });
    const { id } = await newUser(owner);
    expect((await read(id, owner.token)).status).toBe(200);
    expect(await outboxJobs(await conversationOf(id))).toEqual([]);
    expectError(await call("GET", `/v1/appusers/${id}/conversation`, owner.token), 404);
  });

  it.each([
    ["role is unknown", { role: "whisper" }, "role"],
    ["role is not a string", { role: 1 }, "role"],
    ["the body is not an object", ["appUser"], "body"],
  ])("answers 400 naming the field when %s", async (_, body, field) => {
    const { id } = await newUser();
    expectError(await read(id, app.token, body), 400, field);
  });

  it("answers 400 on malformed JSON and 404 for an unknown user", async () => {
    const { id } = await newUser();
    expectError(await call("POST", `/v1/appusers/${id}/conversation/read`, { ...app.token, "content-type": "application/json" }, { raw: "{role" }), 400);
    expectError(await read(hexId(), app.token), 404, "appUserId");
  });

  it("refuses every invalid credential (401), another user's JWT (403), another app (404), the app token of a credentialRequired user (401)", async () => {
    const user = await newUser();
    const { id } = user;
    await say(id, "appMaker", "one");
    await expectAppUserRefusals((auth, path) => read(id, auth, undefined, path), app, other, user, "conversation/read");
    const guarded = await newUser(app, { credentialRequired: true });
    expectError(await read(guarded.id, app.token), 401);
    expect((await read(guarded.id, await app.user(guarded.userId))).status).toBe(200);
    expect(await unreadOf(id)).toBe(1);
  });
});

describe("the conversation:read webhook", () => {
  /** A fresh app with these webhooks, and one of its users. */
  async function setup(triggersPerWebhook: string[][]) {
    const { owner, hooks } = await appWithWebhooks(`read hooks ${++serial}`, triggersPerWebhook, TARGET);
    return { owner, hooks, ...(await newUser(owner, { givenName: "Rea", surname: "Der" })) };
  }

  it("goes through the outbox and the queue to the webhooks listening to it, naming the side and the newest message", async () => {
    const hold = holdOutboxAlarms();
    const { owner, hooks, id, userId } = await setup([["conversation:read"], ["message"], ["message", "conversation:read"]]);
    await say(id, "appUser", "hello", owner);
    const { message: newest, conversation } = await say(id, "appMaker", "hi", owner);
    const stub = await conversationOf(id);
    const before = (await outboxJobs(stub)).length;

    const at = Date.now() / 1000;
    expect((await read(id, await owner.user(userId))).status).toBe(200);
    const jobs = (await outboxJobs(stub)).slice(before);
    expect(jobs.map((j) => j.webhookId).sort()).toEqual([hooks[0]._id, hooks[2]._id].sort());
    for (const job of jobs) expect(job).toMatchObject({ trigger: "conversation:read", messageId: newest._id });
    const payload = JSON.parse(jobs[0].body);
    expect(payload).toEqual({
      trigger: "conversation:read",
      appUser: expect.objectContaining({ _id: id, userId, givenName: "Rea", surname: "Der", conversationStarted: true }),
      conversation: { _id: conversation._id },
      role: "appUser",
      timestamp: expect.any(Number),
    });
    expect(Math.abs(payload.timestamp - at)).toBeLessThan(60);

    // The alarm sends everything in order; the consumer posts it and records the delivery.
    hold.mockRestore();
    const { sent } = interceptFetch();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await vi.waitUntil(() => sent.filter((r) => JSON.parse(r.body).trigger === "conversation:read").length === 2, { timeout: 15_000, interval: 20 });
    const reads = sent.filter((r) => JSON.parse(r.body).trigger === "conversation:read");
    expect(reads.map((r) => r.body)).toEqual([jobs[0].body, jobs[1].body]);
    expect(reads.map((r) => r.url).sort()).toEqual([hooks[0].target, hooks[2].target].sort());
    expect(await deliveredRecord(owner, hooks[0]._id, "conversation:read")).toMatchObject({ _id: jobs[0].deliveryId, messageId: newest._id, attempts: 1, lastStatus: 200 });
  });

  it("names the business side when it reads", async () => {
    holdOutboxAlarms();
    const { owner, id } = await setup([["conversation:read"]]);
    await say(id, "appUser", "hello", owner);
    expect((await read(id, owner.server, { role: "appMaker" })).status).toBe(200);
    const [job] = await outboxJobs(await conversationOf(id));
    expect(JSON.parse(job.body).role).toBe("appMaker");
  });
});
