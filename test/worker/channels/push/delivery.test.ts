// Push delivery (issue 13, sending side): the outbox's push job, the consumer's fan-out to devices,
// per-device sending with retries, token invalidation and the dead-letter record. The channels
// themselves (src/channels/push/send.ts) are replaced here by scripted outcomes; test/worker/channels/push/channels.test.ts
// and the end-to-end suite run the real FCM client against a fake.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { handleDeliveryBatch } from "../../../../src/delivery/consumer";
import { ChannelRegistry } from "../../../../src/delivery/registry";
import { makePushChannel, type PushChannels } from "../../../../src/channels/push/channel";
import type { PushJob } from "../../../../src/channels/push/jobs";
import type { PushMessage, PushOutcome, PushTarget } from "../../../../src/channels/push/send";
import { account, call, conversationOf, createApp, freshUser, hexId, holdOutboxAlarms, runQueue, type TestApp } from "../../support/helpers";
import { serviceAccount } from "../../support/push-keys";

/** The channels, scripted: every test starts with all devices reachable and every push sent. */
const scripted = {
  send: async (_target: PushTarget, _message: PushMessage): Promise<PushOutcome> => ({ outcome: "sent", status: 200 }),
  reachable: (_platform: string, _token: string) => true,
};
const channels: PushChannels = {
  sendPush: (_env, target, message) => scripted.send(target, message),
  hasPushChannel: async (_env, _appId, platform, token) => scripted.reachable(platform, token),
};

/** The pipeline with the push channel alone, through the scripted providers. */
const scriptedPipeline = new ChannelRegistry([makePushChannel(channels)]);

/** Runs the push consumer on one batch, through the scripted channels. */
const runPush = <Body extends PushJob>(queue: string, messages: Array<{ body: Body; attempts?: number }>) =>
  runQueue<PushJob>(queue, messages, env, (batch, environment) => handleDeliveryBatch(batch, environment, scriptedPipeline));

const QUEUE = "parley-push";
const DLQ = "parley-push-dlq";
// PUSH_RETRY_BASE_SECONDS in wrangler.toml, which the tests run with.
const BASE_SECONDS = 10;

let app: TestApp;

/** A new app with an fcm channel: only an app with a channel writes push jobs. */
async function appWithChannel(name: string) {
  const created = await createApp(name);
  const body = { type: "fcm", serviceAccount: (await serviceAccount()).file };
  const response = await call("POST", `/v1/apps/${created.appId}/integrations`, await account(), { body });
  expect(response.status, JSON.stringify(response.json)).toBe(201);
  return created;
}

beforeAll(async () => {
  app = await appWithChannel("push delivery");
});

afterEach(() => {
  vi.restoreAllMocks();
  scripted.send = async () => ({ outcome: "sent", status: 200 });
  scripted.reachable = () => true;
});

/** Records what sendPush was asked, answering with `outcomes` in turn (then "sent"). */
function scriptSends(...outcomes: PushOutcome[]) {
  const sent: Array<{ target: PushTarget; message: PushMessage }> = [];
  scripted.send = async (target, message) => {
    sent.push({ target, message });
    return outcomes.shift() ?? { outcome: "sent", status: 200 };
  };
  return sent;
}

/** Calls init on a device for the user, with a push token unless it is null. */
async function initDevice(userId: string, deviceId: string, token: string | null, platform = "ios") {
  const device = { id: deviceId, platform, ...(token === null ? {} : { pushNotificationToken: token }) };
  const response = await call("POST", "/v1/init", app.token, { body: { device, userId } });
  expect(response.status, JSON.stringify(response.json)).toBe(200);
}

async function deviceToken(deviceId: string) {
  const row = await env.DB.prepare("SELECT push_notification_token FROM devices WHERE app_id = ? AND id = ?")
    .bind(app.appId, deviceId)
    .first<{ push_notification_token: string | null }>();
  return row?.push_notification_token;
}

async function failureRecord(messageId: string, deviceId = "") {
  return env.DB.prepare("SELECT * FROM push_failures WHERE message_id = ? AND device_id = ?").bind(messageId, deviceId).first();
}

const messageJob = (user: { id: string }, overrides: Partial<PushMessage> = {}): PushJob => ({
  kind: "message",
  appId: app.appId,
  appUserId: user.id,
  conversationId: hexId(),
  messageId: hexId(),
  text: "Your order has shipped",
  mediaType: null,
  authorName: "Support",
  ...overrides,
});

const deviceJob = (user: { id: string }, deviceId: string, overrides: Partial<PushMessage> = {}): PushJob => ({
  ...messageJob(user, overrides),
  kind: "device",
  deviceId,
});

/** The push jobs waiting in a conversation's outbox, oldest first. */
async function pushOutbox(appUserId: string): Promise<PushJob[]> {
  return runInDurableObject(await conversationOf(appUserId), (_instance, state) =>
    state.storage.sql
      .exec<{ job: string }>("SELECT job FROM outbox WHERE channel = 'push' ORDER BY seq")
      .toArray()
      .map((row) => JSON.parse(row.job) as PushJob),
  );
}

const post = (user: { id: string }, body: Record<string, unknown>) =>
  call("POST", `/v1/appusers/${user.id}/messages`, app.server, { body });

describe("what a posted message puts in the push outbox", () => {
  it("writes one push job per appMaker message, in the transaction that stores it, and none for the app user's", async () => {
    holdOutboxAlarms();
    const user = await freshUser(app);
    const conversationId = (await call("GET", `/v1/appusers/${user.id}/conversation`, app.server)).json.conversation?._id;
    const answer = await post(user, { role: "appMaker", text: "We shipped it", name: "Ana" });
    expect(answer.status).toBe(201);
    const image = await post(user, { role: "appMaker", mediaUrl: "https://cdn.example.com/a.png", mediaType: "image/png" });
    expect((await post(user, { role: "appUser", text: "thanks" })).status).toBe(201);

    const jobs = await pushOutbox(user.id);
    expect(jobs).toEqual([
      {
        kind: "message",
        appId: app.appId,
        appUserId: user.id,
        conversationId: expect.any(String),
        messageId: answer.json.message._id,
        text: "We shipped it",
        mediaType: null,
        authorName: "Ana",
      },
      // An image's text is its URL: the push says it is an image instead.
      expect.objectContaining({ messageId: image.json.message._id, text: null, mediaType: "image", authorName: null }),
    ]);
    if (conversationId) expect(jobs[0].conversationId).toBe(conversationId);
  });

  it("writes none for an app without a push channel", async () => {
    holdOutboxAlarms();
    const bare = await createApp("no channel");
    const user = await freshUser(bare);
    expect((await call("POST", `/v1/appusers/${user.id}/messages`, bare.server, { body: { role: "appMaker", text: "hi" } })).status).toBe(201);
    expect(await pushOutbox(user.id)).toEqual([]);
  });

  it("cuts long texts to 1000 characters", async () => {
    holdOutboxAlarms();
    const user = await freshUser(app);
    await post(user, { role: "appMaker", text: "x".repeat(3000) });
    expect((await pushOutbox(user.id))[0].text).toHaveLength(1000);
  });

  it("drops a message's push job with the message when it is erased before the queue took it", async () => {
    holdOutboxAlarms();
    const user = await freshUser(app);
    const kept = await post(user, { role: "appMaker", text: "kept" });
    const erased = await post(user, { role: "appMaker", text: "erased" });
    expect((await call("DELETE", `/v1/appusers/${user.id}/messages/${erased.json.message._id}`, app.server)).status).toBe(200);
    expect((await pushOutbox(user.id)).map((job) => job.messageId)).toEqual([kept.json.message._id]);
  });

  it("hands the jobs to the PUSH queue when the alarm runs, and then holds none", async () => {
    const hold = holdOutboxAlarms();
    const user = await freshUser(app);
    await post(user, { role: "appMaker", text: "hello" });
    expect(await pushOutbox(user.id)).toHaveLength(1);
    hold.mockRestore();
    expect(await runDurableObjectAlarm(await conversationOf(user.id))).toBe(true);
    expect(await pushOutbox(user.id)).toEqual([]);
  });
});

describe("the fan-out of a message job", () => {
  it("enqueues one device job per device with a token and a channel whose current user is the message's user", async () => {
    const user = await freshUser(app);
    const other = await freshUser(app);
    const ids = { ios: hexId(), android: hexId(), noToken: hexId(), takenOver: hexId(), noChannel: hexId() };
    await initDevice(user.userId, ids.ios, "ios-token");
    await initDevice(user.userId, ids.android, "android-token", "android");
    await initDevice(user.userId, ids.noToken, null);
    await initDevice(user.userId, ids.takenOver, "shared-token");
    // Only the most recent user to call init on a device gets its pushes.
    await initDevice(other.userId, ids.takenOver, null);
    await initDevice(user.userId, ids.noChannel, "web-subscription", "web");
    scripted.reachable = (platform) => platform !== "web";
    const enqueued = vi.spyOn(env.PUSH, "sendBatch");

    const job = messageJob(user);
    const { ids: msgIds, result } = await runPush(QUEUE, [{ body: job }]);

    expect(result.explicitAcks).toEqual(msgIds);
    const bodies = enqueued.mock.calls.flatMap(([messages]) => [...messages].map((m) => m.body as PushJob));
    expect(bodies.map((body) => body.kind === "device" && body.deviceId).sort()).toEqual([ids.ios, ids.android].sort());
    for (const body of bodies) expect(body).toEqual({ ...job, kind: "device", deviceId: expect.any(String) });
  });

  it("enqueues nothing for a user without devices, and acks", async () => {
    const user = await freshUser(app);
    const enqueued = vi.spyOn(env.PUSH, "sendBatch");
    const { ids, result } = await runPush(QUEUE, [{ body: messageJob(user) }]);
    expect(result.explicitAcks).toEqual(ids);
    expect(enqueued).not.toHaveBeenCalled();
  });

  it("retries with backoff, recording why, when the device jobs cannot be enqueued", async () => {
    const user = await freshUser(app);
    await initDevice(user.userId, hexId(), "a-token");
    vi.spyOn(env.PUSH, "sendBatch").mockRejectedValue(new Error("Queue send failed: overloaded"));
    const job = messageJob(user);
    const { ids, result, retries } = await runPush(QUEUE, [{ body: job, attempts: 2 }]);
    expect(result.explicitAcks).toEqual([]);
    expect(retries).toEqual([{ msgId: ids[0], options: { delaySeconds: BASE_SECONDS * 2 } }]);
    expect(await failureRecord(job.messageId)).toMatchObject({ outcome: "retrying", attempts: 2, last_error: "Queue send failed: overloaded" });
  });
});

describe("a device job", () => {
  async function userWithDevice(token = `token-${hexId()}`) {
    const user = await freshUser(app);
    const deviceId = hexId();
    await initDevice(user.userId, deviceId, token);
    return { user, deviceId, token };
  }

  it("sends the message to the device's current token and acks, recording nothing", async () => {
    const { user, deviceId, token } = await userWithDevice();
    const sent = scriptSends();
    const job = deviceJob(user, deviceId);
    const { ids, result } = await runPush(QUEUE, [{ body: job }]);
    expect(result.explicitAcks).toEqual(ids);
    const { kind: _, deviceId: __, ...message } = job as Extract<PushJob, { kind: "device" }>;
    expect(sent).toEqual([{ target: { platform: "ios", token }, message }]);
    expect(await failureRecord(job.messageId, deviceId)).toBeNull();
  });

  it("sends to the token the device registered after the fan-out", async () => {
    const { user, deviceId } = await userWithDevice();
    await initDevice(user.userId, deviceId, "newer-token");
    const sent = scriptSends();
    await runPush(QUEUE, [{ body: deviceJob(user, deviceId) }]);
    expect(sent.map((s) => s.target.token)).toEqual(["newer-token"]);
  });

  it("is dropped, unsent, when another user has called init on the device since", async () => {
    const { user, deviceId } = await userWithDevice();
    await initDevice((await freshUser(app)).userId, deviceId, null);
    const sent = scriptSends();
    const { ids, result } = await runPush(QUEUE, [{ body: deviceJob(user, deviceId) }]);
    expect(result.explicitAcks).toEqual(ids);
    expect(sent).toEqual([]);
  });

  it("is dropped, unsent, when its message was erased after it was queued", async () => {
    holdOutboxAlarms();
    const { user, deviceId } = await userWithDevice();
    const stored = await post(user, { role: "appMaker", text: "soon gone" });
    expect((await call("DELETE", `/v1/appusers/${user.id}/messages/${stored.json.message._id}`, app.server)).status).toBe(200);
    const sent = scriptSends();
    const { ids, result } = await runPush(QUEUE, [
      { body: deviceJob(user, deviceId, { messageId: stored.json.message._id }) },
      { body: messageJob(user, { messageId: stored.json.message._id }) },
    ]);
    expect(result.explicitAcks).toEqual(ids);
    expect(sent).toEqual([]);
  });

  it("is dropped, unsent, when its user was deleted", async () => {
    const { user, deviceId } = await userWithDevice();
    expect((await call("DELETE", `/v1/appusers/${user.id}`, app.server)).status).toBe(200);
    const sent = scriptSends();
    const { ids, result } = await runPush(QUEUE, [{ body: deviceJob(user, deviceId) }]);
    expect(result.explicitAcks).toEqual(ids);
    expect(sent).toEqual([]);
  });

  it.each([
    ["a 5xx", { outcome: "retry", status: 503, retryAfterSeconds: null, reason: "FCM answered 503" }],
    ["a network error", { outcome: "retry", status: null, retryAfterSeconds: null, reason: "Network connection lost." }],
  ] as const)("retries %s after base * 2^(attempts-1) seconds, recording the reason", async (_, outcome) => {
    const { user, deviceId } = await userWithDevice();
    const job = deviceJob(user, deviceId);
    for (let attempts = 1; attempts <= 4; attempts++) {
      scriptSends(outcome);
      const { ids, result, retries } = await runPush(QUEUE, [{ body: job, attempts }]);
      expect(result.explicitAcks, `attempt ${attempts}`).toEqual([]);
      expect(retries, `attempt ${attempts}`).toEqual([{ msgId: ids[0], options: { delaySeconds: BASE_SECONDS * 2 ** (attempts - 1) } }]);
      expect(await failureRecord(job.messageId, deviceId)).toMatchObject({
        outcome: "retrying",
        attempts,
        last_status: outcome.status,
        last_error: outcome.reason,
      });
    }
  });

  it("counts the attempts a job had before it went back to the queue untried", async () => {
    const { user, deviceId } = await userWithDevice();
    const job = { ...deviceJob(user, deviceId), priorAttempts: 2 };
    scriptSends({ outcome: "retry", status: 502, retryAfterSeconds: null, reason: "FCM answered 502" });
    const { ids, retries } = await runPush(QUEUE, [{ body: job, attempts: 1 }]);
    expect(retries).toEqual([{ msgId: ids[0], options: { delaySeconds: BASE_SECONDS * 4 } }]);
    expect(await failureRecord(job.messageId, deviceId)).toMatchObject({ outcome: "retrying", attempts: 3 });
  });

  it("waits as long as a 429's Retry-After asks when that is longer than the backoff, never shorter", async () => {
    const { user, deviceId } = await userWithDevice();
    const job = deviceJob(user, deviceId);
    const slowDown = (retryAfterSeconds: number): PushOutcome => ({ outcome: "retry", status: 429, retryAfterSeconds, reason: "FCM answered 429" });

    scriptSends(slowDown(120));
    expect((await runPush(QUEUE, [{ body: job, attempts: 1 }])).retries[0].options).toEqual({ delaySeconds: 120 });
    scriptSends(slowDown(5));
    expect((await runPush(QUEUE, [{ body: job, attempts: 3 }])).retries[0].options).toEqual({ delaySeconds: BASE_SECONDS * 4 });
    // Queues delays at most 12 hours.
    scriptSends(slowDown(10 * 86_400));
    expect((await runPush(QUEUE, [{ body: job, attempts: 1 }])).retries[0].options).toEqual({ delaySeconds: 43_200 });
  });

  it("records a push that went out after retries as sent", async () => {
    const { user, deviceId } = await userWithDevice();
    const job = deviceJob(user, deviceId);
    scriptSends({ outcome: "retry", status: 500, retryAfterSeconds: null, reason: "FCM answered 500" });
    await runPush(QUEUE, [{ body: job, attempts: 1 }]);
    scriptSends({ outcome: "sent", status: 200 });
    const { ids, result } = await runPush(QUEUE, [{ body: job, attempts: 2 }]);
    expect(result.explicitAcks).toEqual(ids);
    expect(await failureRecord(job.messageId, deviceId)).toMatchObject({ outcome: "sent", attempts: 2, last_status: 200 });
  });

  it("clears a token the provider calls invalid, and no later job uses it", async () => {
    const { user, deviceId, token } = await userWithDevice();
    const sent = scriptSends({ outcome: "invalid-token", status: 404, reason: "UNREGISTERED" });
    const first = deviceJob(user, deviceId);
    // Two jobs for the device in one batch: the second must not try the dead token.
    const { ids, result } = await runPush(QUEUE, [{ body: first }, { body: deviceJob(user, deviceId) }]);
    expect(result.explicitAcks.sort()).toEqual([...ids].sort());
    expect(sent.map((s) => s.target.token)).toEqual([token]);
    expect(await deviceToken(deviceId)).toBeNull();
    expect(await failureRecord(first.messageId, deviceId)).toMatchObject({ outcome: "invalid-token", last_status: 404, last_error: "UNREGISTERED" });

    // A later batch, and a later message's fan-out, leave the device alone.
    const enqueued = vi.spyOn(env.PUSH, "sendBatch");
    await runPush(QUEUE, [{ body: deviceJob(user, deviceId) }, { body: messageJob(user) }]);
    expect(sent).toHaveLength(1);
    expect(enqueued).not.toHaveBeenCalled();
  });

  it("keeps a token the device registered while the dead one was being tried", async () => {
    const { user, deviceId } = await userWithDevice();
    scripted.send = async () => {
      await initDevice(user.userId, deviceId, "fresh-token");
      return { outcome: "invalid-token", status: 410, reason: "Unregistered" };
    };
    await runPush(QUEUE, [{ body: deviceJob(user, deviceId) }]);
    expect(await deviceToken(deviceId)).toBe("fresh-token");
  });

  it("acks a permanent failure and records it with its reason", async () => {
    const { user, deviceId } = await userWithDevice();
    scriptSends({ outcome: "failed", status: 403, reason: "FCM refused the credentials (403 PERMISSION_DENIED)" });
    const job = deviceJob(user, deviceId);
    const { ids, result } = await runPush(QUEUE, [{ body: job }]);
    expect(result.explicitAcks).toEqual(ids);
    expect(await failureRecord(job.messageId, deviceId)).toMatchObject({
      outcome: "failed",
      last_status: 403,
      last_error: "FCM refused the credentials (403 PERMISSION_DENIED)",
    });
  });
});

describe("the push dead-letter queue", () => {
  it("records a job that used up its retries as failed, keeping the last reason, without sending", async () => {
    const user = await freshUser(app);
    const deviceId = hexId();
    await initDevice(user.userId, deviceId, "a-token");
    const job = deviceJob(user, deviceId);
    scriptSends({ outcome: "retry", status: 503, retryAfterSeconds: null, reason: "FCM answered 503" });
    await runPush(QUEUE, [{ body: job, attempts: 9 }]);

    const sent = scriptSends();
    const { ids, result } = await runPush(DLQ, [{ body: job }]);
    expect(result.explicitAcks).toEqual(ids);
    expect(sent).toEqual([]);
    expect(await failureRecord(job.messageId, deviceId)).toMatchObject({
      outcome: "failed",
      attempts: 9,
      last_status: 503,
      last_error: "FCM answered 503",
    });
  });

  it("records a dead-lettered fan-out that no attempt recorded", async () => {
    const user = await freshUser(app);
    const job = messageJob(user);
    const { ids, result } = await runPush(DLQ, [{ body: job }]);
    expect(result.explicitAcks).toEqual(ids);
    expect(await failureRecord(job.messageId)).toMatchObject({ outcome: "failed", last_error: "gave up after the last retry" });
  });
});
