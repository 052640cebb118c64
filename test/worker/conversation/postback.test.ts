import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
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
  type TestApp,
} from "../support/helpers";

const TARGET = "https://hooks.example.com/postbacks";
const BUTTONS = [
  { type: "link", text: "Read", uri: "https://example.com/read" },
  { type: "postback", text: "Buy now", payload: "BUY_NOW" },
  { type: "postback", text: "Later", payload: "LATER" },
];

let app: TestApp;
let other: TestApp;
let serial = 0;

beforeAll(async () => {
  [app, other] = await Promise.all([createApp("postbacks"), createApp("another app")]);
});

afterEach(() => {
  vi.restoreAllMocks();
});

const newUser = (owner: TestApp = app, profile: Record<string, unknown> = {}) => freshUser(owner, profile);

/** An appMaker message with the buttons above; returns it as stored. */
async function offer(id: string, owner: TestApp = app) {
  const response = await call("POST", `/v1/appusers/${id}/messages`, owner.server, { body: { role: "appMaker", text: "What now?", actions: BUTTONS } });
  expect(response.status, JSON.stringify(response.json)).toBe(201);
  return response.json.message as { _id: string; actions: Array<{ _id: string; type: string; text: string; payload?: string }> };
}

const press = (id: string, auth: Record<string, string>, body: unknown, path = `/v1/appusers/${id}/conversation/postback`) =>
  call("POST", path, auth, { body });

describe("POST /v1/appusers/{id}/conversation/postback", () => {
  it.each([
    ["the app token", () => Promise.resolve(app.token)],
    ["the user's own JWT", (userId: string) => app.user(userId)],
    ["an app JWT", () => Promise.resolve(app.server)],
  ])("answers 200 {} with %s for a postback action of the conversation", async (_, auth) => {
    const { id, userId } = await newUser();
    const message = await offer(id);
    const response = await press(id, await auth(userId), { actionId: message.actions[1]._id });
    expect(response.status, JSON.stringify(response.json)).toBe(200);
    expect(response.json).toEqual({});
  });

  it("is reachable by the account under /v1/apps/{appId}", async () => {
    const { id } = await newUser();
    const message = await offer(id);
    const response = await press(id, await account(), { actionId: message.actions[2]._id }, `/v1/apps/${app.appId}/appusers/${id}/conversation/postback`);
    expect(response.status, JSON.stringify(response.json)).toBe(200);
  });

  it.each([
    ["an unknown action", () => hexId()],
    ["a link action (not a postback)", (message: Awaited<ReturnType<typeof offer>>) => message.actions[0]._id],
    ["the message's own _id", (message: Awaited<ReturnType<typeof offer>>) => message._id],
  ])("answers 404 naming actionId for %s", async (_, pick) => {
    const { id } = await newUser();
    const message = await offer(id);
    expectError(await press(id, app.token, { actionId: pick(message) }), 404, "actionId");
  });

  it("answers 404 for a postback action of another user's conversation, and in a conversation without messages", async () => {
    const [mine, theirs] = [await newUser(), await newUser()];
    const message = await offer(theirs.id);
    expectError(await press(mine.id, app.token, { actionId: message.actions[1]._id }), 404, "actionId");
    const fresh = await newUser();
    expectError(await press(fresh.id, app.token, { actionId: message.actions[1]._id }), 404, "actionId");
  });

  it.each([
    ["actionId is missing", {}, "actionId"],
    ["actionId is empty", { actionId: "" }, "actionId"],
    ["actionId is not a string", { actionId: 42 }, "actionId"],
    ["actionId is too long", { actionId: "a".repeat(257) }, "actionId"],
    ["the body is not an object", "BUY_NOW", "body"],
  ])("answers 400 naming the field when %s", async (_, body, field) => {
    const { id } = await newUser();
    expectError(await press(id, app.token, body), 400, field);
  });

  it("answers 400 on malformed JSON and 404 for an unknown user", async () => {
    const { id } = await newUser();
    expectError(await call("POST", `/v1/appusers/${id}/conversation/postback`, { ...app.token, "content-type": "application/json" }, { raw: "{actionId" }), 400);
    expectError(await press(hexId(), app.token, { actionId: hexId() }), 404, "appUserId");
  });

  it("refuses every invalid credential (401), another user's JWT (403), another app (404), the app token of a credentialRequired user (401)", async () => {
    const user = await newUser();
    const { id } = user;
    const actionId = (await offer(id)).actions[1]._id;
    await expectAppUserRefusals((auth, path) => press(id, auth, { actionId }, path), app, other, user, "conversation/postback");
    const guarded = await newUser(app, { credentialRequired: true });
    const guardedAction = (await offer(guarded.id)).actions[1]._id;
    expectError(await press(guarded.id, app.token, { actionId: guardedAction }), 401);
    expect((await press(guarded.id, await app.user(guarded.userId), { actionId: guardedAction })).status).toBe(200);
  });

  it("finds a button of a message the app user had before signing in (a merge)", async () => {
    const deviceId = hexId();
    const anonymous = (await call("POST", "/v1/init", app.token, { body: { device: { id: deviceId, platform: "web" } } })).json.appUser;
    const message = await offer(anonymous._id);
    const userId = `merged${++serial}@example.com`;
    const signedIn = (await call("POST", "/v1/init", app.token, { body: { device: { id: deviceId, platform: "web" }, userId } })).json.appUser;
    expect(signedIn._id).not.toBe(anonymous._id);
    expect((await press(signedIn._id, app.token, { actionId: message.actions[1]._id })).status).toBe(200);
    expect((await press(anonymous._id, app.token, { actionId: message.actions[2]._id })).status).toBe(200);
  });
});

describe("the postback webhook", () => {
  /** A fresh app with these webhooks, and one of its users. */
  async function setup(triggersPerWebhook: string[][]) {
    const { owner, hooks } = await appWithWebhooks(`postback hooks ${++serial}`, triggersPerWebhook, TARGET);
    return { owner, hooks, ...(await newUser(owner, { givenName: "Bea", properties: { plan: "pro" } })) };
  }

  it("goes through the outbox and the queue to the webhooks listening to it, with the message and the action", async () => {
    const hold = holdOutboxAlarms();
    const { owner, hooks, id, userId } = await setup([["postback"], ["message"], ["message:appUser", "postback"]]);
    const message = await offer(id, owner);
    const stub = await conversationOf(id);
    const before = (await outboxJobs(stub)).length;

    const action = message.actions[1];
    expect((await press(id, owner.token, { actionId: action._id })).status).toBe(200);
    const jobs = (await outboxJobs(stub)).slice(before);
    expect(jobs.map((j) => j.webhookId).sort()).toEqual([hooks[0]._id, hooks[2]._id].sort());
    for (const job of jobs) expect(job).toMatchObject({ trigger: "postback", messageId: message._id });
    expect(JSON.parse(jobs[0].body)).toEqual({
      trigger: "postback",
      postbacks: [{ message, action: { _id: action._id, type: "postback", text: "Buy now", payload: "BUY_NOW" } }],
      appUser: expect.objectContaining({ _id: id, userId, givenName: "Bea", properties: { plan: "pro" } }),
    });

    hold.mockRestore();
    const { sent } = interceptFetch();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const postbacks = () => sent.filter((r) => JSON.parse(r.body).trigger === "postback");
    await vi.waitUntil(() => postbacks().length === 2, { timeout: 15_000, interval: 20 });
    expect(postbacks().map((r) => r.body)).toEqual([jobs[0].body, jobs[1].body]);
    expect(postbacks().map((r) => r.headers.get("x-parley-delivery"))).toEqual(jobs.map((j) => j.deliveryId));
    expect(await deliveredRecord(owner, hooks[0]._id, "postback")).toMatchObject({ _id: jobs[0].deliveryId, messageId: message._id, attempts: 1, lastStatus: 200 });
  });

  it("each press is its own delivery, in the order pressed", async () => {
    holdOutboxAlarms();
    const { owner, hooks, id } = await setup([["postback"]]);
    const message = await offer(id, owner);
    for (const action of [message.actions[2], message.actions[1], message.actions[2]]) {
      expect((await press(id, owner.token, { actionId: action._id })).status).toBe(200);
    }
    const jobs = await outboxJobs(await conversationOf(id));
    expect(jobs.every((j) => j.webhookId === hooks[0]._id)).toBe(true);
    expect(jobs.map((j) => JSON.parse(j.body).postbacks[0].action.payload)).toEqual(["LATER", "BUY_NOW", "LATER"]);
    expect(new Set(jobs.map((j) => j.deliveryId)).size).toBe(3);
  });

  it("writes nothing when no webhook listens, yet answers 200", async () => {
    holdOutboxAlarms();
    const { owner, id } = await setup([["message:appUser"]]);
    const message = await offer(id, owner);
    const stub = await conversationOf(id);
    // The offered message's own conversation-index job (and its alarm) are there already.
    const outbox = () => runInDurableObject(stub, (_i, state) => state.storage.sql.exec("SELECT seq, channel FROM outbox").toArray());
    const before = await outbox();
    expect((await press(id, owner.token, { actionId: message.actions[1]._id })).status).toBe(200);
    expect(await outboxJobs(stub)).toEqual([]);
    expect(await outbox()).toEqual(before);
  });
});
