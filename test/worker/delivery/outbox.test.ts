import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Conversation } from "../../../src/conversation/object/conversation";
import { call, conversationOf, createApp, holdOutboxAlarms, interceptFetch, outboxJobs, textMessages, type SentRequest, type TestApp } from "../support/helpers";

const TARGET = "https://hooks.example.com/outbox";

afterEach(() => {
  vi.restoreAllMocks();
});

let serial = 0;

/** A fresh app with `webhooks` webhooks on every message, and one app user. */
async function setup(webhooks = 1) {
  const app = await createApp(`outbox ${++serial}`);
  const hooks: Array<{ _id: string; target: string }> = [];
  for (let i = 0; i < webhooks; i++) {
    hooks.push((await call("POST", "/v1/webhooks", app.server, { body: { target: `${TARGET}/${serial}/${i}` } })).json.webhook);
  }
  const user = (await call("POST", "/v1/appusers", app.server, { body: { userId: `user${serial}` } })).json.appUser;
  return { app, hooks, userId: user._id as string, stub: await conversationOf(user._id) };
}

async function postTexts(app: TestApp, userId: string, count: number, prefix = "m") {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const response = await call("POST", `/v1/appusers/${userId}/messages`, app.token, { body: { role: "appUser", text: `${prefix}${i}` } });
    expect(response.status, JSON.stringify(response.json)).toBe(201);
    ids.push(response.json.message._id);
  }
  return ids;
}

const messageIdOf = (request: SentRequest) => JSON.parse(request.body).messages[0]._id as string;
const deliveryIdOf = (request: SentRequest) => request.headers.get("x-parley-delivery");
const sentTo = (sent: SentRequest[], target: string) => sent.filter((r) => r.url === target);

const waitFor = (condition: () => boolean) => vi.waitUntil(condition, { timeout: 15_000, interval: 20 });

describe("the outbox", () => {
  it("survives a crash between storing a message and enqueueing its delivery, which then leaves exactly once", async () => {
    const { app, hooks, userId, stub } = await setup();
    const { sent } = interceptFetch();
    const hold = holdOutboxAlarms();
    const [messageId] = await postTexts(app, userId, 1);

    const [stored] = await outboxJobs(stub);
    expect(stored).toMatchObject({ messageId, webhookId: hooks[0]._id });

    // The worker dies before the alarm has sent anything: memory is lost, storage is not.
    await evictDurableObject(stub);
    expect(await outboxJobs(stub)).toEqual([stored]);
    expect(sent).toEqual([]);

    hold.mockRestore();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await outboxJobs(stub)).length).toBe(0);
    // Nothing left for another alarm to send twice.
    expect(await runDurableObjectAlarm(stub)).toBe(false);

    // A later message is a barrier: its delivery leaves after the first one, so a duplicate of
    // the first would have reached the target before it.
    const [laterId] = await postTexts(app, userId, 1, "later");
    await waitFor(() => sent.some((r) => messageIdOf(r) === laterId));
    expect(sent.filter((r) => messageIdOf(r) === messageId).map(deliveryIdOf)).toEqual([stored.deliveryId]);
    expect(sent.map(messageIdOf)).toEqual([messageId, laterId]);
    expect((await outboxJobs(stub)).length).toBe(0);
  });

  it("keeps deliveries written by several posts in message order through a crash", async () => {
    const { app, hooks, userId, stub } = await setup(2);
    const { sent } = interceptFetch();
    const hold = holdOutboxAlarms();
    const ids = await postTexts(app, userId, 5);

    const jobs = await outboxJobs(stub);
    for (const hook of hooks) expect(jobs.filter((j) => j.webhookId === hook._id).map((j) => j.messageId)).toEqual(ids);

    await evictDurableObject(stub);
    hold.mockRestore();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await waitFor(() => sent.length >= 2 * ids.length);
    for (const hook of hooks) expect(sentTo(sent, hook.target).map(messageIdOf)).toEqual(ids);
    expect(new Set(sent.map(deliveryIdOf)).size).toBe(sent.length);
    expect((await outboxJobs(stub)).length).toBe(0);
  });

  it("sends the deliveries of messages posted one after the other in message order", async () => {
    const { app, hooks, userId, stub } = await setup();
    const { sent } = interceptFetch();
    const ids = await postTexts(app, userId, 8);
    await waitFor(() => sent.length >= ids.length);
    expect(sentTo(sent, hooks[0].target).map(messageIdOf)).toEqual(ids);
    expect((await outboxJobs(stub)).length).toBe(0);
  });

  it("sends deliveries right after the write, the alarm left as the safety net", async () => {
    const { app, hooks, userId, stub } = await setup();
    const { sent } = interceptFetch();
    // An alarm that never drains: whatever arrives was sent by the drain right after the write.
    vi.spyOn(Conversation.prototype, "alarm").mockResolvedValue();
    const [messageId] = await postTexts(app, userId, 1);
    await waitFor(() => sent.length >= 1);
    expect(sentTo(sent, hooks[0].target).map(messageIdOf)).toEqual([messageId]);
    expect((await outboxJobs(stub)).length).toBe(0);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeGreaterThan(Date.now());
  });

  it("sends each delivery once when posts race the drain", async () => {
    const { app, hooks, userId, stub } = await setup(2);
    const { sent } = interceptFetch();
    const posted = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call("POST", `/v1/appusers/${userId}/messages`, app.token, { body: { role: "appUser", text: `race ${i}` } }),
      ),
    );
    const ids = posted
      .map((response) => response.json.message as { _id: string; received: number })
      .sort((a, b) => a.received - b.received)
      .map((message) => message._id);
    await waitFor(() => sent.length >= 40);
    for (const hook of hooks) expect(sentTo(sent, hook.target).map(messageIdOf)).toEqual(ids);
    expect(new Set(sent.map(deliveryIdOf)).size).toBe(40);
    expect((await outboxJobs(stub)).length).toBe(0);
  });

  it("drains an outbox larger than one queue batch, in order", async () => {
    // 3 webhooks x 35 messages = 105 jobs: more than the 100 one sendBatch takes.
    const { app, hooks, userId, stub } = await setup(3);
    const { sent } = interceptFetch();
    const hold = holdOutboxAlarms();
    const ids = await postTexts(app, userId, 35);
    expect((await outboxJobs(stub)).length).toBe(105);

    hold.mockRestore();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await waitFor(() => sent.length >= 105);
    for (const hook of hooks) expect(sentTo(sent, hook.target).map(messageIdOf)).toEqual(ids);
    expect((await outboxJobs(stub)).length).toBe(0);
  });

  it("sends each channel's jobs beside the others': a queue that refuses keeps back only its own channel's, which later go in order", async () => {
    const { app, userId, stub } = await setup();
    const user = { appId: app.appId, id: userId };
    const fanout = { appUser: { _id: userId }, webhooks: [{ id: "hook", triggers: ["message:appUser" as const] }] };
    const { webhook, index } = await runInDurableObject(stub, async (instance) => {
      const calls = { webhook: [] as string[][], index: [] as string[][] };
      const outbox = (instance as unknown as { outbox: { queueOf: (channel: { kind: string }) => Queue } }).outbox;
      let refusing = true;
      vi.spyOn(outbox, "queueOf").mockImplementation(({ kind }) => ({
        sendBatch: async (messages: Iterable<MessageSendRequest<{ messageId: string }>>) => {
          if (kind === "webhook" && refusing) throw new Error("queue unavailable");
          calls[kind as "webhook" | "index"].push([...messages].map((m) => m.body.messageId));
          return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
        },
      }) as unknown as Queue);
      vi.spyOn(instance, "alarm").mockResolvedValue();
      const first = await instance.append(textMessages(userId, 2), { webhook: fanout, index: user });
      await vi.waitUntil(() => calls.index.length === 1, { timeout: 5_000, interval: 10 });
      refusing = false;
      const second = await instance.append(textMessages(userId, 1, "later"), { webhook: fanout, index: user });
      await vi.waitUntil(() => calls.webhook.length === 1 && calls.index.length === 2, { timeout: 5_000, interval: 10 });
      const ids = (appended: { _id: string }[]) => appended.map((m) => m._id);
      return {
        webhook: { sent: calls.webhook, expected: [...ids(first.appended), ...ids(second.appended)] },
        index: { sent: calls.index, expected: [ids(first.appended), ids(second.appended)] },
      };
    });
    // The index's jobs left at once, the refused webhook's waited, then went oldest first with the later one.
    expect(index.sent).toEqual(index.expected);
    expect(webhook.sent).toEqual([webhook.expected]);
    expect((await outboxJobs(stub)).length).toBe(0);
  });
});
