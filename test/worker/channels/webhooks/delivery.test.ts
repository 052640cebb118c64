import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { DeliveryJob } from "../../../../src/channels/webhooks/delivery";
import {
  call,
  conversationOf,
  createApp,
  hexId,
  holdOutboxAlarms,
  interceptFetch,
  outboxJobs,
  runQueue,
  type TestApp,
} from "../../support/helpers";

const QUEUE = "parley-webhooks";
const DLQ = "parley-webhooks-dlq";
const TARGET = "https://hooks.example.com/parley";
// WEBHOOK_RETRY_BASE_SECONDS in wrangler.toml, which the tests run with.
const BASE_SECONDS = 10;

let app: TestApp;
let webhook: { _id: string; secret: string; signingSecret: string };

beforeAll(async () => {
  app = await createApp("deliveries");
  webhook = (await call("POST", "/v1/webhooks", app.server, { body: { target: TARGET } })).json.webhook;
});

afterEach(() => {
  vi.restoreAllMocks();
});

const encoder = new TextEncoder();

/** Checks X-Parley-Signature as the README tells receivers to: HMAC-SHA256 of `${t}.${body}` with the signing secret. */
async function verifySignature(header: string | null, body: string, secret: string) {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? "");
  expect(match, `signature header ${header}`).not.toBeNull();
  const [, t, v1] = match!;
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  const mac = new Uint8Array(v1.match(/../g)!.map((byte) => parseInt(byte, 16)));
  expect(await crypto.subtle.verify("HMAC", key, mac, encoder.encode(`${t}.${body}`))).toBe(true);
  // Fresh, so that a receiver rejecting old timestamps accepts it.
  expect(Math.abs(Number(t) - Date.now() / 1000)).toBeLessThan(300);
}

const job = (overrides: Partial<DeliveryJob> = {}): DeliveryJob => {
  const messageId = hexId();
  return {
    conversation: "one-conversation",
    deliveryId: hexId(),
    webhookId: webhook._id,
    messageId,
    trigger: "message:appUser",
    body: JSON.stringify({ trigger: "message:appUser", messages: [{ _id: messageId, text: "hi" }], appUser: { _id: hexId() } }),
    ...overrides,
  };
};

async function deliveryRecord(webhookId: string, deliveryId: string) {
  const { json } = await call("GET", `/v1/webhooks/${webhookId}/deliveries`, app.server);
  return json.deliveries.find((d: { _id: string }) => d._id === deliveryId);
}

describe("the queue consumer", () => {
  it.each([200, 201, 204])("acks a delivery the target answers with %i, sending the contract's and Parley's headers", async (status) => {
    const { sent } = interceptFetch(() => new Response(status === 204 ? null : "ok", { status }));
    const delivery = job();
    const { ids, result } = await runQueue(QUEUE, [{ body: delivery }]);

    expect(result.explicitAcks).toEqual(ids);
    expect(result.retryMessages).toEqual([]);
    expect(sent).toHaveLength(1);
    const [request] = sent;
    expect(request.url).toBe(TARGET);
    expect(request.method).toBe("POST");
    expect(request.headers.get("content-type")).toMatch(/^application\/json/);
    expect(request.headers.get("x-api-key")).toBe(webhook.secret);
    expect(request.headers.get("x-parley-delivery")).toBe(delivery.deliveryId);
    expect(request.body).toBe(delivery.body);
    await verifySignature(request.headers.get("x-parley-signature"), request.body, webhook.signingSecret);
    // The 20 s timeout travels with the request.
    expect(request.signal).toBeInstanceOf(AbortSignal);

    expect(await deliveryRecord(webhook._id, delivery.deliveryId)).toMatchObject({
      messageId: delivery.messageId,
      trigger: "message:appUser",
      attempts: 1,
      lastStatus: status,
      outcome: "delivered",
    });
  });

  const failures: Array<[string, () => Response | Promise<Response>, number | null]> = [
    ["a 500", () => new Response("boom", { status: 500 }), 500],
    ["a 404", () => new Response("no", { status: 404 }), 404],
    ["a 429", () => new Response("slow down", { status: 429 }), 429],
    ["a redirect (never followed)", () => new Response(null, { status: 302, headers: { location: "https://elsewhere.example.com/" } }), 302],
    ["a network error", () => Promise.reject(new TypeError("Network connection lost.")), null],
    ["a timeout", () => Promise.reject(new DOMException("The operation was aborted due to timeout", "TimeoutError")), null],
  ];

  it.each(failures)("retries %s after base * 2^(attempts-1) seconds, for attempts 1 to 5", async (_, answer, status) => {
    const { sent } = interceptFetch(answer);
    const delivery = job();
    for (let attempts = 1; attempts <= 5; attempts++) {
      const { ids, result, retries } = await runQueue(QUEUE, [{ body: delivery, attempts }]);
      expect(result.explicitAcks, `attempt ${attempts}`).toEqual([]);
      expect(result.retryMessages.map((r) => r.msgId), `attempt ${attempts}`).toEqual(ids);
      expect(retries, `attempt ${attempts}`).toEqual([{ msgId: ids[0], options: { delaySeconds: BASE_SECONDS * 2 ** (attempts - 1) } }]);
      expect(await deliveryRecord(webhook._id, delivery.deliveryId)).toMatchObject({ attempts, lastStatus: status, outcome: "retrying" });
    }
    // One request per attempt: a redirect is reported, not followed.
    expect(sent).toHaveLength(5);
  });

  it("keeps the delivery id and the body across retries, and signs each attempt", async () => {
    const answers = [500, 200];
    const { sent } = interceptFetch(() => new Response("", { status: answers.shift() }));
    const delivery = job();
    await runQueue(QUEUE, [{ body: delivery, attempts: 1 }]);
    const { ids, result } = await runQueue(QUEUE, [{ body: delivery, attempts: 2 }]);

    expect(result.explicitAcks).toEqual(ids);
    expect(sent.map((r) => r.headers.get("x-parley-delivery"))).toEqual([delivery.deliveryId, delivery.deliveryId]);
    expect(sent.map((r) => r.body)).toEqual([delivery.body, delivery.body]);
    for (const request of sent) await verifySignature(request.headers.get("x-parley-signature"), request.body, webhook.signingSecret);
    expect(await deliveryRecord(webhook._id, delivery.deliveryId)).toMatchObject({ attempts: 2, lastStatus: 200, outcome: "delivered" });
  });

  it("delivers a batch one message after the other, in its order", async () => {
    const { sent } = interceptFetch();
    const deliveries = [job(), job(), job(), job()];
    const { ids, result } = await runQueue(QUEUE, deliveries.map((body) => ({ body })));
    expect(result.explicitAcks).toEqual(ids);
    expect(sent.map((r) => r.headers.get("x-parley-delivery"))).toEqual(deliveries.map((d) => d.deliveryId));
  });

  it("delivers different conversations side by side, each still in its order", async () => {
    const first = [job({ conversation: "a" }), job({ conversation: "a" })];
    const other = job({ conversation: "b" });
    // The first conversation's target answers only once the other conversation's delivery has
    // started: one after the other across conversations would never get there.
    let otherStarted: () => void = () => {};
    const otherHasStarted = new Promise<void>((resolve) => (otherStarted = resolve));
    const { sent } = interceptFetch(async (request) => {
      if (request.headers.get("x-parley-delivery") === other.deliveryId) otherStarted();
      else await otherHasStarted;
      return new Response("ok");
    });
    const { ids, result } = await runQueue(QUEUE, [first[0], other, first[1]].map((body) => ({ body })));
    expect(result.explicitAcks.sort()).toEqual([...ids].sort());
    const order = sent.map((r) => r.headers.get("x-parley-delivery"));
    expect(order.filter((id) => id !== other.deliveryId)).toEqual(first.map((d) => d.deliveryId));
  });

  it("acks without calling anyone when the webhook was deleted", async () => {
    const doomed = (await call("POST", "/v1/webhooks", app.server, { body: { target: TARGET } })).json.webhook;
    expect((await call("DELETE", `/v1/webhooks/${doomed._id}`, app.server)).status).toBe(200);
    const { sent } = interceptFetch();
    const { ids, result } = await runQueue(QUEUE, [{ body: job({ webhookId: doomed._id }) }, { body: job({ webhookId: hexId() }) }]);
    expect(result.explicitAcks).toEqual(ids);
    expect(result.retryMessages).toEqual([]);
    expect(sent).toEqual([]);
  });

  it("records the failure of a delivery that reaches the dead-letter queue, without calling the target", async () => {
    const delivery = job();
    interceptFetch(() => new Response("still down", { status: 503 }));
    await runQueue(QUEUE, [{ body: delivery, attempts: 6 }]);
    vi.restoreAllMocks();

    const { sent } = interceptFetch();
    const { ids, result } = await runQueue(DLQ, [{ body: delivery }]);
    expect(result.explicitAcks).toEqual(ids);
    expect(result.retryMessages).toEqual([]);
    expect(sent).toEqual([]);
    // What the last attempt saw stays visible next to the outcome.
    expect(await deliveryRecord(webhook._id, delivery.deliveryId)).toMatchObject({
      messageId: delivery.messageId,
      attempts: 6,
      lastStatus: 503,
      outcome: "failed",
    });
  });

  it("records a dead-lettered delivery that no attempt recorded", async () => {
    const delivery = job();
    const { result, ids } = await runQueue(DLQ, [{ body: delivery }]);
    expect(result.explicitAcks).toEqual(ids);
    expect(await deliveryRecord(webhook._id, delivery.deliveryId)).toMatchObject({ messageId: delivery.messageId, outcome: "failed" });
  });
});

describe("per-delivery settlement", () => {
  it("acks a delivery already recorded as delivered without sending it again", async () => {
    interceptFetch();
    const delivery = job();
    await runQueue(QUEUE, [{ body: delivery }]);
    vi.restoreAllMocks();
    const { sent } = interceptFetch();
    const { ids, result } = await runQueue(QUEUE, [{ body: delivery, attempts: 2 }, { body: job() }]);
    expect(result.explicitAcks.sort()).toEqual([...ids].sort());
    expect(sent).toHaveLength(1);
    expect(await deliveryRecord(webhook._id, delivery.deliveryId)).toMatchObject({ attempts: 1, outcome: "delivered" });
  });

  it("settles each delivery on its own: a failing one is retried, the others in its batch are acked", async () => {
    const failing = job();
    const { sent } = interceptFetch((request) =>
      new Response("", { status: request.headers.get("x-parley-delivery") === failing.deliveryId ? 503 : 200 }),
    );
    const { ids, result } = await runQueue(QUEUE, [{ body: job() }, { body: failing }, { body: job() }]);
    expect(result.explicitAcks.sort()).toEqual([ids[0], ids[2]].sort());
    expect(result.retryMessages.map((r) => r.msgId)).toEqual([ids[1]]);
    expect(sent).toHaveLength(3);
  });

  it("retries, never acks, a delivery whose record cannot be written", async () => {
    const { sent } = interceptFetch();
    const failingWrites = new Proxy(env.DB, {
      get: (db, key) =>
        key === "prepare"
          ? (sql: string) => (sql.startsWith("INSERT") ? db.prepare("SELECT * FROM no_such_table") : db.prepare(sql))
          : Reflect.get(db, key).bind(db),
    });
    const { ids, result } = await runQueue(QUEUE, [{ body: job() }], { ...env, DB: failingWrites });
    expect(sent).toHaveLength(1);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((r) => r.msgId)).toEqual(ids);
  });

  it("puts back what the batch's time budget did not reach, untried and carrying its attempt count", async () => {
    const deliveries = [job({ conversation: "slow" }), job({ conversation: "slow" }), job({ conversation: "slow" })];
    const { sent } = interceptFetch(async () => {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      return new Response("late but fine");
    });
    const requeued: DeliveryJob[] = [];
    const recorder = { sendBatch: async (messages: Array<{ body: DeliveryJob }>) => void requeued.push(...messages.map((m) => m.body)) };
    const budgetOfOneSecond = { ...env, WEBHOOK_BATCH_BUDGET_SECONDS: "1", WEBHOOKS: recorder } as unknown as Env;
    const { ids, result } = await runQueue(QUEUE, deliveries.map((body) => ({ body, attempts: 2 })), budgetOfOneSecond);

    expect(sent.map((r) => r.headers.get("x-parley-delivery"))).toEqual([deliveries[0].deliveryId]);
    // Requeued rather than retried: Queues would charge a retry() an attempt.
    expect(result.explicitAcks.sort()).toEqual([...ids].sort());
    expect(requeued).toEqual(deliveries.slice(1).map((d) => ({ ...d, priorAttempts: 1 })));

    // The requeued job counts its earlier attempt in its backoff and its record.
    vi.restoreAllMocks();
    interceptFetch(() => new Response("", { status: 500 }));
    const { retries } = await runQueue(QUEUE, [{ body: requeued[0] }]);
    expect(retries[0].options).toEqual({ delaySeconds: BASE_SECONDS * 2 });
    expect(await deliveryRecord(webhook._id, requeued[0].deliveryId)).toMatchObject({ attempts: 2, outcome: "retrying" });
  });
});

describe("what a posted message puts in the outbox", () => {
  let serial = 0;

  /** A fresh app with exactly these webhooks and one app user with a full profile. */
  async function setup(triggersPerWebhook: string[][]) {
    const owner = await createApp(`outbox ${++serial}`);
    const hooks = [];
    for (const [i, triggers] of triggersPerWebhook.entries()) {
      const created = await call("POST", "/v1/webhooks", owner.server, { body: { target: `${TARGET}/${i}`, triggers } });
      expect(created.status, JSON.stringify(created.json)).toBe(201);
      hooks.push(created.json.webhook as { _id: string; secret: string; signingSecret: string; target: string });
    }
    const profile = {
      userId: `steve${serial}@example.com`,
      givenName: "Steve",
      surname: "Jobs",
      email: "steve@example.com",
      signedUpAt: "2015-10-06T03:38:02.346Z",
      properties: { plan: "pro", seats: 3, trial: false },
    };
    const user = (await call("POST", "/v1/appusers", owner.server, { body: profile })).json.appUser;
    return { owner, hooks, user, profile };
  }

  const post = async (owner: TestApp, userId: string, role: "appUser" | "appMaker", text: string) => {
    const response = await call("POST", `/v1/appusers/${userId}/messages`, role === "appUser" ? owner.token : owner.server, {
      body: { role, text },
    });
    expect(response.status, JSON.stringify(response.json)).toBe(201);
    return response.json.message;
  };

  it("holds one job per matching webhook with the later revision's payload, which is what the target receives", async () => {
    const hold = holdOutboxAlarms();
    const { owner, hooks, user, profile } = await setup([["message"]]);
    const message = await post(owner, user._id, "appUser", "Hi! Do you have time to chat?");

    const stub = await conversationOf(user._id);
    const [queued, ...more] = await outboxJobs(stub);
    expect(more).toEqual([]);
    expect(queued).toMatchObject({ deliveryId: expect.stringMatching(/^[0-9a-f]{24}$/), webhookId: hooks[0]._id, messageId: message._id, trigger: "message:appUser" });
    const payload = JSON.parse(queued.body);
    expect(payload.trigger).toBe("message:appUser");
    expect(payload.messages).toEqual([message]);
    expect(payload.appUser).toMatchObject({
      _id: user._id,
      userId: profile.userId,
      givenName: "Steve",
      surname: "Jobs",
      email: "steve@example.com",
      signedUpAt: profile.signedUpAt,
      properties: profile.properties,
    });

    // Let the alarm send it: the target receives exactly the stored bytes.
    hold.mockRestore();
    const { sent } = interceptFetch();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await vi.waitUntil(() => sent.length > 0, { timeout: 10_000, interval: 20 });
    expect(sent[0].url).toBe(hooks[0].target);
    expect(sent[0].body).toBe(queued.body);
    expect(sent[0].headers.get("x-parley-delivery")).toBe(queued.deliveryId);
    expect(sent[0].headers.get("x-api-key")).toBe(hooks[0].secret);
    await verifySignature(sent[0].headers.get("x-parley-signature"), sent[0].body, hooks[0].signingSecret);
  });

  it("carries the message's type, source and actions, with their ids, as the response shows them", async () => {
    holdOutboxAlarms();
    const { owner, user } = await setup([["message:appMaker"]]);
    const actions = [{ type: "postback", text: "Go", payload: "GO" }, { type: "buy", text: "Pay", amount: 100 }];
    const response = await call("POST", `/v1/appusers/${user._id}/messages`, owner.server, { body: { role: "appMaker", text: "Pick", actions } });
    expect(response.status, JSON.stringify(response.json)).toBe(201);
    const [job] = await outboxJobs(await conversationOf(user._id));
    const payload = JSON.parse(job.body);
    expect(payload.messages).toEqual([response.json.message]);
    expect(payload.messages[0]).toMatchObject({
      type: "text",
      source: { type: "api" },
      actions: [
        { _id: expect.stringMatching(/^[0-9a-f]{24}$/), type: "postback", text: "Go", payload: "GO" },
        { _id: expect.stringMatching(/^[0-9a-f]{24}$/), type: "buy", text: "Pay", amount: 100, currency: "usd", state: "offered" },
      ],
    });
  });

  it("routes each role's messages only to the webhooks whose triggers match", async () => {
    holdOutboxAlarms();
    const { owner, hooks, user } = await setup([["message"], ["message:appUser"], ["message:appMaker"], ["message:appUser", "message:appMaker"]]);
    const [all, usersOnly, makersOnly, both] = hooks.map((h) => h._id);
    const fromUser = await post(owner, user._id, "appUser", "question");
    const fromMaker = await post(owner, user._id, "appMaker", "answer");

    const jobs = await outboxJobs(await conversationOf(user._id));
    const routed = (messageId: string) =>
      jobs.filter((j) => j.messageId === messageId).map((j) => ({ webhookId: j.webhookId, trigger: j.trigger, payloadTrigger: JSON.parse(j.body).trigger }));
    expect(routed(fromUser._id)).toEqual(
      expect.arrayContaining([all, usersOnly, both].map((webhookId) => ({ webhookId, trigger: "message:appUser", payloadTrigger: "message:appUser" }))),
    );
    expect(routed(fromUser._id)).toHaveLength(3);
    expect(routed(fromMaker._id)).toEqual(
      expect.arrayContaining([all, makersOnly, both].map((webhookId) => ({ webhookId, trigger: "message:appMaker", payloadTrigger: "message:appMaker" }))),
    );
    expect(routed(fromMaker._id)).toHaveLength(3);
    expect(new Set(jobs.map((j) => j.deliveryId)).size).toBe(jobs.length);
  });

  it.each([
    ["an app without webhooks", [] as string[][]],
    ["an app whose only webhook listens to the other role", [["message:appMaker"]]],
  ])("with %s a message leaves no webhook job in the outbox, only the conversation index's", async (_, triggers) => {
    holdOutboxAlarms();
    const { owner, user } = await setup(triggers);
    await post(owner, user._id, "appUser", "nobody listens");
    const stub = await conversationOf(user._id);
    expect(await outboxJobs(stub)).toEqual([]);
    const channels = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ channel: string }>("SELECT channel FROM outbox").toArray());
    expect(channels.map((row) => row.channel)).toEqual(["index"]);
  });

  it("a deleted webhook gets no deliveries for later messages", async () => {
    holdOutboxAlarms();
    const { owner, hooks, user } = await setup([["message"]]);
    expect((await call("DELETE", `/v1/webhooks/${hooks[0]._id}`, owner.server)).status).toBe(200);
    await post(owner, user._id, "appUser", "after the delete");
    expect(await outboxJobs(await conversationOf(user._id))).toEqual([]);
  });
});
