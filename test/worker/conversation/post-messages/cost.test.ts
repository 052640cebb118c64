// The cost model in README.md ("Cost"): what one posted message with one webhook is billed for,
// counted on the real code path (test/worker/support/billing.ts), and what a million of them cost at
// Cloudflare's published prices. A change to the counts fails here: update the README with it.
import { createExecutionContext, env, runDurableObjectAlarm, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../../../src/index";
import type { DeliveryJob } from "../../../../src/channels/webhooks/delivery";
import type { IndexJob } from "../../../../src/channels/conversation-index/channel";
import type { ConversationMessage } from "../../../../src/model/message";
import { countInside, countingEnv, emptyTally, type Tally } from "../../support/billing";
import { account, BASE, call, conversationOf, createApp, freshUser, hexId, interceptFetch, outboxJobs, runQueue, type TestApp } from "../../support/helpers";

/** The smallest byte string that sniffs as a PNG. */
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1]);

/** Paid-plan prices per million, beyond the included usage, as published by Cloudflare (read 2026-11-28). */
const PRICE_PER_MILLION: Record<keyof Tally, number> = {
  workerRequests: 0.3,
  durableObjectRequests: 0.15,
  durableObjectRowsRead: 0.001,
  durableObjectRowsWritten: 1.0,
  d1RowsRead: 0.001,
  d1RowsWritten: 1.0,
  queueOperations: 0.4,
  r2ClassA: 4.5,
  r2ClassB: 0.36,
};

const dollarsPerMillion = (tally: Tally) =>
  Object.entries(tally).reduce((sum, [key, n]) => sum + n * PRICE_PER_MILLION[key as keyof Tally], 0);

/** What README.md ("Cost") quotes. */
const TEXT_MESSAGE: Tally = {
  workerRequests: 3,
  durableObjectRequests: 3,
  durableObjectRowsRead: 8,
  durableObjectRowsWritten: 9,
  d1RowsRead: 30,
  d1RowsWritten: 12,
  queueOperations: 6,
  r2ClassA: 0,
  r2ClassB: 0,
};
/** The same text message in an app that also has an email integration: what emailing it adds. */
const EMAILED_MESSAGE: Tally = {
  ...TEXT_MESSAGE,
  workerRequests: 4,
  durableObjectRowsRead: 11,
  durableObjectRowsWritten: 12,
  d1RowsRead: 47,
  d1RowsWritten: 16,
  queueOperations: 9,
};
/**
 * Of the text message, the conversation index's consumer (its queue write and outbox rows are
 * counted with the post), with its call to the app's Desk room (nobody watching: it reads nothing).
 * Its 9 rows written: the conversation's row and its two indexes (by status, by assignee: both hold
 * the activity it moves), the message's row and its two indexes, one for its words in the FTS5
 * search index (D1 counts an insert into an FTS5 table as one row, whatever FTS5 writes in its own
 * tables), and the conversation's row twice more, by the message's trigger: its unread count moved
 * on, then its stored entry rebuilt (which reads 4 rows: the conversation's, once to update it and
 * once for the view, its user's, and its newest message by conversation_messages_by_user).
 */
const INDEX_CONSUMER: Tally = { ...emptyTally(), workerRequests: 1, durableObjectRequests: 1, d1RowsRead: 14, d1RowsWritten: 9, queueOperations: 2 };
/**
 * A conversation's first indexed message adds its row's unique key, its user's row in the user
 * filter's trigram index, and the new row's entry, built as it is inserted.
 */
const FIRST_INDEX_ROWS_WRITTEN = INDEX_CONSUMER.d1RowsWritten + 3;
/** An appMaker message (or an appUser one the business has read already) moves no unread count. */
const READ_INDEX_ROWS_WRITTEN = INDEX_CONSUMER.d1RowsWritten - 1;
const IMAGE_MESSAGE: Tally = { ...TEXT_MESSAGE, r2ClassA: 1 };
const IMAGE_VIEW: Tally = { ...emptyTally(), workerRequests: 1, d1RowsRead: 2, r2ClassB: 2 };

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * Every isolate cache missed (AUTH_CACHE_SECONDS=0): the app token, the app user and the
 * webhooks are read from D1, the most a message can cost. A cache obeys its reader's TTL
 * (src/lib/ttl-cache.ts), so what the setup cached with the usual 5 s is never a hit here,
 * however fast or slow the setup ran.
 */
const coldEnv = (tally: Tally, emailDomain = "") => countingEnv({ ...env, AUTH_CACHE_SECONDS: "0", EMAIL_DOMAIN: emailDomain }, tally);

async function fetchCounted(tally: Tally, path: string, init: RequestInit, emailDomain = "") {
  const ctx = createExecutionContext();
  tally.workerRequests++;
  const response = await worker.fetch!(new Request(`${BASE}${path}`, init) as never, coldEnv(tally, emailDomain), ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/**
 * An app whose webhook sorts after every other app's in the webhooks_by_app index. D1 counts
 * the index entry a range scan stops at: an app whose webhooks are the index's last entries
 * reads one row fewer, which a random app id is now and then. With this neighbour every app
 * is in the position (nearly) every app has on a deployment with many.
 */
async function addLastNeighbour() {
  const id = "f".repeat(24);
  await env.DB.batch([
    env.DB.prepare("INSERT OR IGNORE INTO apps (id, name, app_token, created_at) VALUES (?, 'neighbour', ?, 0)").bind(id, `token-${id}`),
    env.DB.prepare("INSERT OR IGNORE INTO webhooks (id, app_id, target, triggers, secret, created_at) VALUES (?, ?, 'https://hooks.example.com/n', '[]', 's', 0)").bind(id, id),
  ]);
}

/** One steady-state post (the user's conversation already started, its outbox drained, no alarm pending), counted to its webhook's delivery. */
async function countOnePost(post: (tally: Tally, app: TestApp, userId: string) => Promise<Response>, emailDomain = "") {
  await addLastNeighbour();
  const app = await createApp("cost");
  if (emailDomain) {
    const integration = { type: "email", to: ["support@business.example"] };
    expect((await call("POST", `/v1/apps/${app.appId}/integrations`, await account(), { body: integration })).status).toBe(201);
  }
  const { webhook } = (await call("POST", "/v1/webhooks", app.server, { body: { target: "https://hooks.example.com/cost", triggers: ["message:appUser"] } })).json;
  const user = await freshUser(app);
  interceptFetch();
  expect((await call("POST", `/v1/appusers/${user.id}/messages`, app.token, { body: { role: "appUser", text: "first" } })).status).toBe(201);
  const stub = await conversationOf(user.id);
  await vi.waitUntil(async () => (await outboxJobs(stub)).length === 0, { timeout: 10_000 });
  // The first message's index job consumed, so that the counted one finds its conversation indexed.
  await vi.waitUntil(async () => (await call("GET", "/v1/conversations", app.server)).json.conversations.length === 1, { timeout: 10_000 });
  // And its email sent (its thread started), which the index's quicker batches no longer outlast.
  if (emailDomain) {
    const emailed = env.DB.prepare("SELECT 1 FROM email_threads WHERE app_user_id = ?").bind(user.id);
    await vi.waitUntil(async () => (await emailed.first()) !== null, { timeout: 10_000 });
  }
  // Its safety-net alarm run too: the counted message is alone in its conversation, and pays
  // for a safety net of its own.
  expect(await runDurableObjectAlarm(stub)).toBe(true);
  // The webhook's log pruned in this isolate already, as it is under load (once a minute).
  const warmUp = { conversation: "warm-up", deliveryId: hexId(), webhookId: webhook._id, messageId: hexId(), trigger: "message:appUser" as const, body: "{}" };
  await runQueue("parley-webhooks", [{ body: warmUp }]);

  const tally = emptyTally();
  const sent: Array<DeliveryJob | IndexJob | { messageId: string }> = [];
  await countInside(stub, tally, sent as DeliveryJob[]);
  const response = await post(tally, app, user.id);
  expect(response.status).toBe(201);
  // One webhook delivery, one index job, and the email.
  await vi.waitUntil(() => sent.length === (emailDomain ? 3 : 2), { timeout: 10_000 });
  const delivery = sent.find((job): job is DeliveryJob => "webhookId" in job)!;
  const indexJob = sent.find((job): job is IndexJob => "op" in job)!;
  const emailJob = sent.find((job) => job !== delivery && job !== indexJob);
  // The safety net it armed runs later and finds nothing left to send.
  expect(await runDurableObjectAlarm(stub)).toBe(true);

  // The queue: the outbox's write (counted above), then the consumer's read and its ack (delete).
  tally.workerRequests++;
  tally.queueOperations++;
  const { result } = await runQueue("parley-webhooks", [{ body: delivery }], coldEnv(tally, emailDomain));
  tally.queueOperations += result.explicitAcks.length;
  if (emailDomain) {
    // The email job, on its own queue: its own consumer invocation, read and ack.
    tally.workerRequests++;
    tally.queueOperations++;
    const email = await runQueue<unknown>("parley-email", [{ body: emailJob }], coldEnv(tally, emailDomain));
    tally.queueOperations += email.result.explicitAcks.length;
  }
  // The index's consumer (src/conversations-index/): its own queue batch, shared by up to 100 jobs.
  const index = emptyTally();
  index.workerRequests++;
  index.queueOperations++;
  const indexed = await runQueue<IndexJob>("parley-index", [{ body: indexJob }], coldEnv(index, emailDomain));
  index.queueOperations += indexed.result.explicitAcks.length;
  const total = { ...tally };
  for (const key of Object.keys(total) as Array<keyof Tally>) total[key] += index[key];
  return { ...total, index, app, user, response };
}

describe("what the conversation index writes per message", () => {
  it("writes 3 rows more for a conversation's first message (its unique key, its user in the trigram index, its entry built at its insert), then 9; 8 for an appMaker message", async () => {
    const app = await createApp("index cost");
    const user = await freshUser(app);
    const written: number[] = [];
    for (const [i, [text, role]] of [["first words", "appUser"], ["second words", "appUser"], ["business words", "appMaker"]].entries()) {
      const message = { _id: hexId(), type: "text", text, role, authorId: user.id, received: 1_000 + i, actions: [], source: { type: "api" } } as ConversationMessage;
      const job: IndexJob = { appId: app.appId, appUserId: user.id, op: "message", messageId: message._id, message };
      const tally = emptyTally();
      await runQueue<IndexJob>("parley-index", [{ body: job }], coldEnv(tally));
      written.push(tally.d1RowsWritten);
    }
    expect(written).toEqual([FIRST_INDEX_ROWS_WRITTEN, INDEX_CONSUMER.d1RowsWritten, READ_INDEX_ROWS_WRITTEN]);
    const found = await call("GET", "/v1/conversations/search?q=words", app.server);
    expect(found.json.results).toHaveLength(3);
  });
});

describe("the cost of a posted message with one webhook", () => {
  it("counts the billable operations of a text message, from the post to its delivery", async () => {
    const counted = await countOnePost((tally, app, userId) =>
      fetchCounted(tally, `/v1/appusers/${userId}/messages`, {
        method: "POST",
        headers: { ...app.token, "content-type": "application/json" },
        body: JSON.stringify({ role: "appUser", text: "What does this cost?" }),
      }),
    );
    const { app: _app, user: _user, response: _response, index, ...tally } = counted;
    expect(tally).toEqual(TEXT_MESSAGE);
    expect(dollarsPerMillion(tally)).toBeCloseTo(24.79, 2);
    expect(index).toEqual(INDEX_CONSUMER);
  });

  it("counts an image message the same way, and what each view of the image costs", async () => {
    const counted = await countOnePost((tally, app, userId) => {
      const form = new FormData();
      form.append("source", new File([PNG], "photo.png", { type: "image/png" }));
      form.append("role", "appUser");
      return fetchCounted(tally, `/v1/appusers/${userId}/images`, { method: "POST", headers: app.token, body: form });
    });
    const { app, user: _user, response, index: _index, ...tally } = counted;
    expect(tally).toEqual(IMAGE_MESSAGE);
    expect(dollarsPerMillion(tally)).toBeCloseTo(29.29, 2);
    const { message } = (await response.json()) as { message: { mediaUrl: string } };
    const view = emptyTally();
    const served = await fetchCounted(view, new URL(message.mediaUrl).pathname, { headers: app.token });
    expect(served.status).toBe(200);
    await served.arrayBuffer();
    expect(view).toEqual(IMAGE_VIEW);
    expect(dollarsPerMillion(view)).toBeCloseTo(1.02, 2);
  });

  it("counts what emailing the message adds, in an app with an email integration", async () => {
    const counted = await countOnePost(
      (tally, app, userId) =>
        fetchCounted(
          tally,
          `/v1/appusers/${userId}/messages`,
          { method: "POST", headers: { ...app.token, "content-type": "application/json" }, body: JSON.stringify({ role: "appUser", text: "Email this" }) },
          "mail.parley.test",
        ),
      "mail.parley.test",
    );
    const { app: _app, user: _user, response: _response, index: _index, ...tally } = counted;
    expect(tally).toEqual(EMAILED_MESSAGE);
    expect(dollarsPerMillion(tally)).toBeCloseTo(33.31, 2);
  });
});
