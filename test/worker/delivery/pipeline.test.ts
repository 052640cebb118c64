// The one delivery pipeline (src/delivery/), through a channel that exists only in this file:
// added to the registry in-process (the worker, its Conversation objects and its queue consumer
// run in this test file's isolate), it gets its jobs written with the event, drained to a queue
// and consumed with retries, dead letters, erased-message drops and ordering per lane, without
// a table, drain or consumer of its own.
import { env, runInDurableObject } from "cloudflare:test";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { CHANNELS } from "../../../src/channels/registry";
import { tombstoneStatements } from "../../../src/db/erased-messages";
import type { Channel, Job, Sent } from "../../../src/delivery/channel";
import { call, conversationOf, createApp, freshUser, hexId, holdOutboxAlarms, runQueue, type TestApp } from "../support/helpers";

/** The test channel's job: one per stored message, in the lane its destination names. */
interface EchoJob extends Job {
  lane: string;
  text: string;
}

/** What the channel does with each job, scripted per test; every call is recorded. */
const script = {
  send: async (_job: EchoJob): Promise<Sent> => ({ result: "done" }),
};
const sends: Array<{ job: EchoJob; attempt: number }> = [];
const deadLetters: EchoJob[] = [];
const BASE_SECONDS = 7;

let app: TestApp;

const echoChannel: Channel<EchoJob, { lane: string }, null> = {
  kind: "test-echo",
  // It rides on the webhooks' queue: its messages name their channel.
  queue: (environment) => environment.WEBHOOKS,
  queueName: "parley-webhooks",
  deadLetterQueueName: "parley-webhooks-dlq",
  destinationFor: async (_env, user, occasion) => (user.appId === app.appId && occasion.kind === "messages" ? { lane: user.id } : undefined),
  jobsFor: (event, destination) => (event.kind === "message" ? [{ messageId: event.message._id, lane: destination.lane, text: event.message.text }] : []),
  lane: (job) => job.lane,
  ordered: true,
  budgetMs: () => 30_000,
  retryBaseSeconds: () => BASE_SECONDS,
  async send(_env, job, attempt) {
    sends.push({ job, attempt: attempt.number });
    return script.send(job);
  },
  deadLetterRecords(_env, job) {
    deadLetters.push(job);
    return [];
  },
};

beforeAll(async () => {
  app = await createApp("pipeline");
  CHANNELS.add(echoChannel);
});

afterAll(() => CHANNELS.remove("test-echo"));

afterEach(async () => {
  vi.restoreAllMocks();
  await env.DB.prepare("DELETE FROM delivery_lane_holds WHERE channel = 'test-echo'").run();
  sends.length = 0;
  deadLetters.length = 0;
  script.send = async () => ({ result: "done" });
});

const echoJob = (lane: string, text: string): EchoJob & { channel: string } => ({ channel: "test-echo", messageId: hexId(), lane, text });

const post = async (userId: string, text: string) => {
  const response = await call("POST", `/v1/appusers/${userId}/messages`, app.token, { body: { role: "appUser", text } });
  expect(response.status, JSON.stringify(response.json)).toBe(201);
  return response.json.message as { _id: string };
};

describe("a channel defined only in a test", () => {
  it("gets a job in the outbox, in the transaction that stores the message", async () => {
    holdOutboxAlarms();
    const user = await freshUser(app);
    const message = await post(user.id, "written with its job");
    const rows = await runInDurableObject(await conversationOf(user.id), (_instance, state) =>
      state.storage.sql.exec<{ channel: string; job: string }>("SELECT channel, job FROM outbox WHERE channel = 'test-echo' ORDER BY seq").toArray(),
    );
    expect(rows.map((row) => ({ channel: row.channel, job: JSON.parse(row.job) }))).toEqual([
      { channel: "test-echo", job: { messageId: message._id, lane: user.id, text: "written with its job" } },
    ]);
  });

  it("has its jobs drained to the queue and sent by the one consumer", async () => {
    const user = await freshUser(app);
    const first = await post(user.id, "one");
    const second = await post(user.id, "two");
    await vi.waitUntil(() => sends.length === 2, { timeout: 15_000, interval: 20 });
    expect(sends.map(({ job }) => job.messageId)).toEqual([first._id, second._id]);
    expect(sends.every(({ attempt }) => attempt === 1)).toBe(true);
  });

  it("is retried with backoff, or after the destination's Retry-After when that is longer", async () => {
    script.send = async (job) => ({ result: "retry", retryAfterSeconds: job.text === "slow down" ? 300 : null });
    const { ids, retries, result } = await runQueue("parley-webhooks", [
      { body: echoJob("a", "again"), attempts: 3 },
      { body: echoJob("b", "slow down"), attempts: 1 },
    ]);
    expect(result.explicitAcks).toEqual([]);
    expect(retries).toEqual([
      { msgId: ids[0], options: { delaySeconds: BASE_SECONDS * 4 } },
      { msgId: ids[1], options: { delaySeconds: 300 } },
    ]);
    expect(sends.map(({ attempt }) => attempt)).toEqual([3, 1]);
  });

  it("records a dead letter for a job that used up its retries, and acknowledges it", async () => {
    const job = echoJob("a", "given up");
    const { ids, result } = await runQueue("parley-webhooks-dlq", [{ body: job }]);
    expect(deadLetters).toEqual([job]);
    expect(result.explicitAcks).toEqual(ids);
    expect(sends).toEqual([]);
  });

  it("drops, unsent, a job about a message erased after it was queued", async () => {
    const job = echoJob("a", "erased");
    await env.DB.batch(tombstoneStatements(env.DB, [job.messageId], Date.now()));
    const { ids, result } = await runQueue("parley-webhooks", [{ body: job }]);
    expect(sends).toEqual([]);
    expect(result.explicitAcks).toEqual(ids);
  });

  it("sends the jobs of one lane one after another in queue order, lanes side by side", async () => {
    const events: string[] = [];
    script.send = async (job) => {
      events.push(`start ${job.text}`);
      await new Promise((resolve) => setTimeout(resolve, job.text === "a1" ? 200 : 10));
      events.push(`end ${job.text}`);
      return { result: "done" };
    };
    await runQueue("parley-webhooks", [{ body: echoJob("a", "a1") }, { body: echoJob("a", "a2") }, { body: echoJob("b", "b1") }]);
    // a2 waits for a1; b1 does not.
    expect(events.indexOf("start a2")).toBeGreaterThan(events.indexOf("end a1"));
    expect(events.indexOf("end b1")).toBeLessThan(events.indexOf("end a1"));
  });
});

describe("order across retries (a channel with `ordered`)", () => {
  const QUEUE = "parley-webhooks";
  const texts = () => sends.map(({ job }) => job.text);
  const holds = async (lane: string) =>
    (await env.DB.prepare("SELECT message_id FROM delivery_lane_holds WHERE lane = ? ORDER BY position").bind(lane).all<{ message_id: string }>()).results.map(
      (row) => row.message_id,
    );
  /** The jobs put back on the queue to wait, with their delays (captured: not delivered by the queue). */
  const waiting = () => {
    const put: Array<{ body: EchoJob & { channel?: string }; delaySeconds?: number }> = [];
    vi.spyOn(env.WEBHOOKS, "sendBatch").mockImplementation(async (messages) => {
      for (const message of messages) put.push({ body: message.body as EchoJob, delaySeconds: message.delaySeconds });
      return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
    });
    return put;
  };

  it("holds a later job of the lane behind one waiting for its retry, and sends it once that one is delivered", async () => {
    const put = waiting();
    const lane = hexId();
    const [one, two] = [echoJob(lane, "one"), echoJob(lane, "two")];
    script.send = async (job) => ({ result: job.text === "one" ? "retry" : "done" });

    const first = await runQueue(QUEUE, [{ body: one }, { body: two }]);
    // One failed: retried with backoff. Two, right behind it, is not sent: it goes back to wait, uncharged.
    expect(texts()).toEqual(["one"]);
    expect(first.retries).toEqual([{ msgId: first.ids[0], options: { delaySeconds: BASE_SECONDS } }]);
    expect(first.result.explicitAcks).toEqual([first.ids[1]]);
    expect(put.map(({ body }) => body)).toEqual([{ ...two, priorAttempts: 0 }]);
    expect(put[0].delaySeconds).toBeGreaterThan(BASE_SECONDS);
    expect(await holds(lane)).toEqual([one.messageId, two.messageId]);

    // Two comes back before one's retry: it waits again, and is still not sent.
    await runQueue(QUEUE, [{ body: put[0].body }]);
    expect(texts()).toEqual(["one"]);
    expect(put).toHaveLength(2);

    // One's retry is delivered; then two goes, at its first attempt.
    script.send = async () => ({ result: "done" });
    await runQueue(QUEUE, [{ body: one, attempts: 2 }]);
    await runQueue(QUEUE, [{ body: put[1].body }]);
    expect(sends.map(({ job, attempt }) => [job.text, attempt])).toEqual([
      ["one", 1],
      ["one", 2],
      ["two", 1],
    ]);
    expect(await holds(lane)).toEqual([]);
  });

  it("moves the lane on once the earlier job dead-letters", async () => {
    const put = waiting();
    const lane = hexId();
    const [one, two] = [echoJob(lane, "one"), echoJob(lane, "two")];
    script.send = async (job) => ({ result: job.text === "one" ? "retry" : "done" });
    await runQueue(QUEUE, [{ body: one, attempts: 6 }]);
    await runQueue(QUEUE, [{ body: two }]);
    expect(texts()).toEqual(["one"]);

    const dead = await runQueue("parley-webhooks-dlq", [{ body: one }]);
    expect(dead.result.explicitAcks).toEqual(dead.ids);
    expect(deadLetters).toEqual([one]);
    await runQueue(QUEUE, [{ body: put[0].body }]);
    expect(texts()).toEqual(["one", "two"]);
    expect(await holds(lane)).toEqual([]);
  });

  it("keeps the waiting jobs in their order, whichever comes back first", async () => {
    const put = waiting();
    const lane = hexId();
    const [one, two, three] = [echoJob(lane, "one"), echoJob(lane, "two"), echoJob(lane, "three")];
    script.send = async (job) => ({ result: job.text === "one" ? "retry" : "done" });
    await runQueue(QUEUE, [{ body: one }, { body: two }]);
    await runQueue(QUEUE, [{ body: three }]);
    script.send = async () => ({ result: "done" });
    await runQueue(QUEUE, [{ body: one, attempts: 2 }]);
    // Three is back before two: two is now the lane's first, so three waits for it.
    await runQueue(QUEUE, [{ body: put[1].body }]);
    expect(texts()).toEqual(["one", "one"]);
    await runQueue(QUEUE, [{ body: put[0].body }]);
    await runQueue(QUEUE, [{ body: put[2].body }]);
    expect(texts()).toEqual(["one", "one", "two", "three"]);
    expect(await holds(lane)).toEqual([]);
  });

  it("moves on past an earlier job long overdue (taken for lost), rather than stand still", async () => {
    const lane = hexId();
    const lost = hexId();
    await env.DB.prepare("INSERT INTO delivery_lane_holds (channel, lane, message_id, position, due_at) VALUES ('test-echo', ?, ?, 1, ?)")
      .bind(lane, lost, Date.now() - 16 * 60_000)
      .run();
    await runQueue(QUEUE, [{ body: echoJob(lane, "after the lost one") }]);
    expect(texts()).toEqual(["after the lost one"]);
    expect(await holds(lane)).toEqual([]);
  });

  it("writes nothing for a lane whose jobs are delivered at their first attempt", async () => {
    const lane = hexId();
    await runQueue(QUEUE, [{ body: echoJob(lane, "a") }, { body: echoJob(lane, "b") }]);
    expect(texts()).toEqual(["a", "b"]);
    expect(await holds(lane)).toEqual([]);
  });

  it("lets a later job overtake a retried one in a channel without `ordered`", async () => {
    const put = waiting();
    const lane = hexId();
    CHANNELS.add({ ...echoChannel, ordered: false });
    try {
      script.send = async (job) => ({ result: job.text === "one" ? "retry" : "done" });
      await runQueue(QUEUE, [{ body: echoJob(lane, "one") }, { body: echoJob(lane, "two") }]);
      expect(texts()).toEqual(["one", "two"]);
      expect(put).toEqual([]);
    } finally {
      CHANNELS.add(echoChannel);
    }
  });
});
