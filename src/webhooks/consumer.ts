import { config } from "../config";
import { erasedAmongStatement } from "../db/erased-messages";
import {
  attemptStatement,
  deliveredAmongStatement,
  gaveUpStatement,
  pruneDeliveriesStatement,
  type DeliveryAttempt,
} from "../db/webhook-deliveries";
import type { Webhook } from "../db/webhooks";
import { ACK, retryAfter, settleEach, type Verdict } from "../lib/queue-settlement";
import { GroupCommit } from "../lib/group-commit";
import { TtlCache } from "../lib/ttl-cache";
import { cachedWebhook } from "./cache";
import { attemptOf, type DeliveryJob } from "./delivery";
import { signatureHeader } from "./signature";
import { isRefusedTarget } from "../lib/private-host";

/** The dead-letter queue's name, as wrangler.toml declares it. */
export const DEAD_LETTER_QUEUE = "parley-webhooks-dlq";

const TIMEOUT_MS = 20_000;

/** The wait before retry n+1 after attempt n failed: base, 2 base, 4 base, ... */
export const retryDelaySeconds = (env: Env, attempt: number) =>
  config(env).webhookRetryBaseSeconds * 2 ** (attempt - 1);

type AttemptResult = Pick<DeliveryAttempt, "lastStatus" | "lastError"> & { ok: boolean; permanent?: boolean };

async function post(env: Env, webhook: Webhook, job: DeliveryJob): Promise<AttemptResult> {
  if (isRefusedTarget(env, webhook.target)) {
    return { ok: false, permanent: true, lastStatus: null, lastError: "target is on a private network" };
  }
  try {
    const response = await fetch(webhook.target, {
      method: "POST",
      redirect: "manual",
      signal: AbortSignal.timeout(TIMEOUT_MS),
      headers: {
        "content-type": "application/json",
        "user-agent": "Parley-Webhooks/1",
        "x-api-key": webhook.secret,
        "x-parley-delivery": job.deliveryId,
        "x-parley-signature": await signatureHeader(webhook.signingSecret, job.body, Math.floor(Date.now() / 1000)),
      },
      body: job.body,
    });
    // The receiver's body is of no interest; release the connection.
    await response.body?.cancel();
    const ok = response.status >= 200 && response.status < 300;
    return { ok, lastStatus: response.status, lastError: ok ? null : `target answered ${response.status}` };
  } catch (error) {
    return { ok: false, lastStatus: null, lastError: error instanceof Error ? error.message : String(error) };
  }
}

/** What a batch's one D1 read says needs no sending: erased messages, deliveries already made. */
interface Skips {
  erased: Set<string>;
  delivered: Set<string>;
}

async function skipsOf(env: Env, jobs: DeliveryJob[]): Promise<Skips> {
  const [erased, delivered] = await env.DB.batch<Record<string, string>>([
    erasedAmongStatement(env.DB, jobs.map((job) => job.messageId)),
    deliveredAmongStatement(env.DB, jobs.map((job) => job.deliveryId)),
  ]);
  return {
    erased: new Set(erased.results.map((row) => row.message_id)),
    delivered: new Set(delivered.results.map((row) => row.id)),
  };
}

/** The batch's delivery log: the attempts that finish together are recorded in one D1 batch. */
const deliveryLog = (env: Env) =>
  new GroupCommit<DeliveryAttempt>((attempts) => env.DB.batch(attempts.map((attempt) => attemptStatement(env.DB, attempt))));

/**
 * One delivery: sent, then recorded, then settled. The record is written before the message is
 * acknowledged, so a failed write retries the delivery (a receiver may see it twice, keyed by
 * X-Parley-Delivery) rather than losing it.
 */
async function deliver(env: Env, message: Message<DeliveryJob>, skips: Skips, log: GroupCommit<DeliveryAttempt>): Promise<Verdict> {
  const job = message.body;
  // Erased after it was queued: what it would post is gone (src/lifecycle/). Delivered: a
  // duplicate queue message, or a record written just before its ack was lost.
  if (skips.erased.has(job.messageId) || skips.delivered.has(job.deliveryId)) return ACK;
  const webhook = await cachedWebhook(env, job.webhookId);
  // A webhook deleted since the message was stored has nobody left to deliver to.
  if (!webhook) return ACK;
  const result = await post(env, webhook, job);
  const outcome = result.ok ? "delivered" : result.permanent ? "failed" : "retrying";
  const attempt = attemptOf(job, message.attempts);
  await log.add({
    id: job.deliveryId,
    webhookId: job.webhookId,
    messageId: job.messageId,
    trigger: job.trigger,
    attempts: attempt,
    lastStatus: result.lastStatus,
    lastError: result.lastError,
    outcome,
  });
  return outcome === "retrying" ? retryAfter(retryDelaySeconds(env, attempt)) : ACK;
}

/**
 * Webhooks whose log this isolate pruned within the last minute. A prune reads the webhook's
 * whole log (up to DELIVERY_LOG_KEEP rows), and batches come one or a few deliveries at a time:
 * pruned with each, the log cost more than the deliveries it records.
 */
const recentlyPruned = new TtlCache<true>();
const PRUNE_EVERY_SECONDS = 60;

/** Keeps the delivery log of every webhook in the batch within its bounds (config), once a minute. */
function pruneStatements(env: Env, messages: readonly Message<DeliveryJob>[]): D1PreparedStatement[] {
  const { deliveryLogKeep, deliveryLogDays } = config(env);
  const before = Date.now() - deliveryLogDays * 86_400_000;
  const webhooks = [...new Set(messages.map((message) => message.body.webhookId))].filter((id) => !recentlyPruned.peek(id));
  for (const id of webhooks) recentlyPruned.set(id, true, PRUNE_EVERY_SECONDS);
  return webhooks.map((id) => pruneDeliveriesStatement(env.DB, id, deliveryLogKeep, before));
}

/** What the dead-letter queue receives has used up its retries: record the failures, then ack. */
async function recordFailures(env: Env, messages: readonly Message<DeliveryJob>[]): Promise<void> {
  await env.DB.batch(
    messages.map(({ body: { deliveryId, webhookId, messageId, trigger } }) =>
      gaveUpStatement(env.DB, { id: deliveryId, webhookId, messageId, trigger }),
    ),
  );
  for (const message of messages) message.ack();
}

/**
 * Delivers a batch: conversations side by side, each conversation's deliveries one after the
 * other in the order its outbox enqueued them, each acknowledged or retried as soon as its own
 * POST is recorded (src/lib/queue-settlement.ts); the records of POSTs that finish together
 * share one D1 write (src/lib/group-commit.ts). Deliveries the batch's budget did not reach go
 * back on the queue untried, carrying their attempt count. One D1 read per batch finds the
 * deliveries about erased messages and those already made; the log of each webhook the batch
 * touched is pruned at the end, at most once a minute per webhook in this isolate.
 */
export async function handleWebhookBatch(batch: MessageBatch<DeliveryJob>, env: Env): Promise<void> {
  if (batch.queue === DEAD_LETTER_QUEUE) return recordFailures(env, batch.messages);
  const skips = await skipsOf(env, batch.messages.map((message) => message.body));
  const log = deliveryLog(env);
  const report = await settleEach(batch, (message) => deliver(env, message, skips, log), {
    budgetMs: config(env).webhookBatchBudgetSeconds * 1000,
    lane: (job) => job.conversation,
    requeue: (untried) =>
      env.WEBHOOKS.sendBatch(
        untried.map((message) => ({ body: { ...message.body, priorAttempts: attemptOf(message.body, message.attempts) - 1 } })),
      ),
  });
  const prunes = report.worked === 0 ? [] : pruneStatements(env, batch.messages);
  if (prunes.length === 0) return;
  // The log's bound is housekeeping: a failure here leaves it for a later batch.
  await env.DB.batch(prunes).catch((error) => console.error("delivery log prune failed", error));
}
