import { recordAttempt, recordGaveUp, type DeliveryAttempt } from "../db/webhook-deliveries";
import type { Webhook } from "../db/webhooks";
import { cachedWebhook } from "./cache";
import type { DeliveryJob } from "./delivery";
import { signatureHeader } from "./signature";
import { isPrivateHost, privateTargetsAllowed } from "./targets";

/** The dead-letter queue's name, as wrangler.toml declares it. */
export const DEAD_LETTER_QUEUE = "parley-webhooks-dlq";

const TIMEOUT_MS = 20_000;

/** The wait before retry n+1 after attempt n failed: base, 2 base, 4 base, ... */
export const retryDelaySeconds = (env: Env, attempt: number) =>
  (Number(env.WEBHOOK_RETRY_BASE_SECONDS) || 10) * 2 ** (attempt - 1);

type AttemptResult = Pick<DeliveryAttempt, "lastStatus" | "lastError"> & { ok: boolean; permanent?: boolean };

async function post(env: Env, webhook: Webhook, job: DeliveryJob): Promise<AttemptResult> {
  if (!privateTargetsAllowed(env) && isPrivateHost(new URL(webhook.target).hostname)) {
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
        "x-parley-signature": await signatureHeader(webhook.secret, job.body, Math.floor(Date.now() / 1000)),
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

async function deliver(env: Env, message: Message<DeliveryJob>): Promise<void> {
  const job = message.body;
  const webhook = await cachedWebhook(env, job.webhookId);
  // A webhook deleted since the message was stored has nobody left to deliver to.
  if (!webhook) return message.ack();
  const result = await post(env, webhook, job);
  const outcome = result.ok ? "delivered" : result.permanent ? "failed" : "retrying";
  await recordAttempt(env.DB, {
    id: job.deliveryId,
    webhookId: job.webhookId,
    messageId: job.messageId,
    trigger: job.trigger,
    attempts: message.attempts,
    lastStatus: result.lastStatus,
    lastError: result.lastError,
    outcome,
  });
  if (outcome === "retrying") message.retry({ delaySeconds: retryDelaySeconds(env, message.attempts) });
  else message.ack();
}

/** What the dead-letter queue receives has used up its retries: record the failure. */
async function recordFailure(env: Env, message: Message<DeliveryJob>): Promise<void> {
  const { deliveryId, webhookId, messageId, trigger } = message.body;
  await recordGaveUp(env.DB, { id: deliveryId, webhookId, messageId, trigger });
  message.ack();
}

/**
 * Delivers one batch in order, one message after the other, so that a conversation's
 * deliveries reach the target in the order the outbox enqueued them.
 */
export async function handleWebhookBatch(batch: MessageBatch<DeliveryJob>, env: Env): Promise<void> {
  const handle = batch.queue === DEAD_LETTER_QUEUE ? recordFailure : deliver;
  for (const message of batch.messages) await handle(env, message);
}
