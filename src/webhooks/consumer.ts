import { config } from "../config";
import { erasedAmong } from "../db/erased-messages";
import { attemptStatement, gaveUpStatement, pruneDeliveriesStatement, type DeliveryAttempt } from "../db/webhook-deliveries";
import type { Webhook } from "../db/webhooks";
import { cachedWebhook } from "./cache";
import type { DeliveryJob } from "./delivery";
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

/** One message's attempt: its D1 record, and what to tell the queue once that is written. */
interface Settled {
  record: D1PreparedStatement | null;
  settle: () => void;
}

async function deliver(env: Env, message: Message<DeliveryJob>, erased: Set<string>): Promise<Settled> {
  const job = message.body;
  // Erased after it was queued: what it would post is gone (src/lifecycle/).
  if (erased.has(job.messageId)) return { record: null, settle: () => message.ack() };
  const webhook = await cachedWebhook(env, job.webhookId);
  // A webhook deleted since the message was stored has nobody left to deliver to.
  if (!webhook) return { record: null, settle: () => message.ack() };
  const result = await post(env, webhook, job);
  const outcome = result.ok ? "delivered" : result.permanent ? "failed" : "retrying";
  const record = attemptStatement(env.DB, {
    id: job.deliveryId,
    webhookId: job.webhookId,
    messageId: job.messageId,
    trigger: job.trigger,
    attempts: message.attempts,
    lastStatus: result.lastStatus,
    lastError: result.lastError,
    outcome,
  });
  const settle = () =>
    outcome === "retrying" ? message.retry({ delaySeconds: retryDelaySeconds(env, message.attempts) }) : message.ack();
  return { record, settle };
}

/** What the dead-letter queue receives has used up its retries: record the failure. */
async function recordFailure(env: Env, message: Message<DeliveryJob>, _erased: Set<string>): Promise<Settled> {
  const { deliveryId, webhookId, messageId, trigger } = message.body;
  return { record: gaveUpStatement(env.DB, { id: deliveryId, webhookId, messageId, trigger }), settle: () => message.ack() };
}

/** Keeps the delivery log of every webhook in the batch within its bounds (config). */
function pruneStatements(env: Env, messages: readonly Message<DeliveryJob>[]): D1PreparedStatement[] {
  const { deliveryLogKeep, deliveryLogDays } = config(env);
  const before = Date.now() - deliveryLogDays * 86_400_000;
  const webhooks = new Set(messages.map((message) => message.body.webhookId));
  return [...webhooks].map((id) => pruneDeliveriesStatement(env.DB, id, deliveryLogKeep, before));
}

/** The batch's messages by conversation, each group in queue order. */
function byConversation(messages: readonly Message<DeliveryJob>[]): Message<DeliveryJob>[][] {
  const groups = new Map<string, Message<DeliveryJob>[]>();
  for (const message of messages) {
    const group = groups.get(message.body.conversation) ?? [];
    group.push(message);
    groups.set(message.body.conversation, group);
  }
  return [...groups.values()];
}

/**
 * Delivers a batch: conversations side by side, each conversation's deliveries one after the
 * other in the order its outbox enqueued them. The attempts are recorded in one D1 batch
 * before any message is acknowledged, so a failed record means a retry, never a lost delivery;
 * the same batch prunes the log of each webhook it touched. Deliveries about messages erased
 * since they were queued are dropped (one D1 read per batch).
 */
export async function handleWebhookBatch(batch: MessageBatch<DeliveryJob>, env: Env): Promise<void> {
  const deadLetters = batch.queue === DEAD_LETTER_QUEUE;
  const handle = deadLetters ? recordFailure : deliver;
  const erased = deadLetters ? new Set<string>() : await erasedAmong(env.DB, batch.messages.map((m) => m.body.messageId));
  const settled = (
    await Promise.all(
      byConversation(batch.messages).map(async (group) => {
        const results: Settled[] = [];
        for (const message of group) results.push(await handle(env, message, erased));
        return results;
      }),
    )
  ).flat();
  const records = settled.flatMap(({ record }) => (record ? [record] : []));
  if (records.length > 0) await env.DB.batch([...records, ...pruneStatements(env, batch.messages)]);
  for (const { settle } of settled) settle();
}
