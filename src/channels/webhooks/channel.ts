import { config } from "../../config";
import type { Channel, ConversationEvent, Sent } from "../../delivery/channel";
import { attemptStatement, deliveredAmongStatement, gaveUpStatement, pruneDeliveriesStatement } from "../../db/webhook-deliveries";
import type { Webhook } from "../../db/webhooks";
import { messageTrigger, type EventTrigger } from "../../enums";
import { newId } from "../../lib/ids";
import { isRefusedTarget } from "../../outbound/private-host";
import { TtlCache } from "../../lib/ttl-cache";
import { cachedWebhook } from "./cache";
import { matches, MAX_JOBS_PER_EVENT, type DeliveryJob, type Fanout } from "./delivery";
import { fanoutFor } from "./fanout";
import { signatureHeader } from "./signature";

const TIMEOUT_MS = 20_000;

type AttemptResult = { ok: boolean; permanent?: boolean; lastStatus: number | null; lastError: string | null };

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

interface HookEvent {
  trigger: EventTrigger;
  messageId: string;
  payload: (appUser: Fanout["appUser"]) => object;
}

/** What the webhooks listening to a triage change hear: its status and its assignee are triggers of their own. */
function triageHooks(event: Extract<ConversationEvent, { kind: "triage" }>): HookEvent[] {
  const { before, after } = event.outcome;
  const conversation = { _id: event.conversationId };
  // A delivery names a message (erasure drops those about erased ones): the newest, if any.
  const messageId = event.newestMessageId ?? newId();
  const hooks: HookEvent[] = [];
  if (after.status !== before.status) {
    const trigger = "conversation:status";
    const change = { status: after.status, previousStatus: before.status };
    hooks.push({ trigger, messageId, payload: (appUser) => ({ trigger, appUser, conversation, ...change, timestamp: Date.now() / 1000 }) });
  }
  if (after.assignee !== before.assignee) {
    const trigger = "conversation:assignee";
    const { assignee } = event;
    hooks.push({ trigger, messageId, payload: (appUser) => ({ trigger, appUser, conversation, assignee, timestamp: Date.now() / 1000 }) });
  }
  return hooks;
}

/** An event as the webhooks listening to its triggers hear it, and the message it concerns. */
function hookEvents(event: ConversationEvent): HookEvent[] {
  switch (event.kind) {
    case "message": {
      const trigger = messageTrigger(event.message.role);
      return [{ trigger, messageId: event.message._id, payload: (appUser) => ({ trigger, messages: [event.message], appUser }) }];
    }
    // A read concerns the newest message.
    case "read": {
      const trigger = "conversation:read";
      const { role, conversationId } = event.read;
      return [
        {
          trigger,
          messageId: event.newestMessageId,
          payload: (appUser) => ({ trigger, appUser, conversation: { _id: conversationId }, role, timestamp: Date.now() / 1000 }),
        },
      ];
    }
    case "postback": {
      const trigger = "postback";
      const { _id, type, text, payload } = event.action;
      return [
        {
          trigger,
          messageId: event.message._id,
          payload: (appUser) => ({ trigger, postbacks: [{ message: event.message, action: { _id, type, text, payload } }], appUser }),
        },
      ];
    }
    case "triage":
      return triageHooks(event);
  }
}

/**
 * Webhooks whose log this isolate pruned within the last minute. A prune reads the webhook's
 * whole log (up to DELIVERY_LOG_KEEP rows), and batches come one or a few deliveries at a time:
 * pruned with each, the log cost more than the deliveries it records.
 */
const recentlyPruned = new TtlCache<true>();
const PRUNE_EVERY_SECONDS = 60;

/**
 * The webhooks channel: one job per event and listening webhook, posted signed to its target;
 * every attempt recorded in the delivery log (GET /v1/webhooks/{id}/deliveries), keyed by the
 * delivery id that every retry keeps. A conversation's deliveries are made in the order its
 * outbox wrote them.
 */
export const webhookChannel: Channel<DeliveryJob, Fanout, Set<string>> = {
  kind: "webhook",
  queue: (env) => env.WEBHOOKS,
  queueName: "parley-webhooks",
  deadLetterQueueName: "parley-webhooks-dlq",

  destinationFor: (env, user) => fanoutFor(env, user),

  jobsFor(event, fanout, conversation) {
    return hookEvents(event).flatMap((hook) => {
      // Bounded whatever the caller passes: an event never writes more than the cap per trigger.
      const routes = fanout.webhooks.filter((route) => matches(route, hook.trigger)).slice(0, MAX_JOBS_PER_EVENT);
      if (routes.length === 0) return [];
      // Built once, so every delivery and every retry posts the same bytes.
      const body = JSON.stringify(hook.payload(fanout.appUser));
      return routes.map((route) => ({
        conversation,
        deliveryId: newId(),
        webhookId: route.id,
        messageId: hook.messageId,
        trigger: hook.trigger,
        body,
      }));
    });
  },

  lane: (job) => job.conversation,
  budgetMs: (env) => config(env).webhookBatchBudgetSeconds * 1000,
  retryBaseSeconds: (env) => config(env).webhookRetryBaseSeconds,

  /** The deliveries already made: a duplicate queue message, or a record written just before its ack was lost. */
  batchReads: (env, jobs) => [deliveredAmongStatement(env.DB, jobs.map((job) => job.deliveryId))],
  batchState: ([delivered]) => new Set(delivered.results.map((row) => String(row.id))),

  async send(env, job, attempt): Promise<Sent> {
    if (attempt.batch.has(job.deliveryId)) return { result: "done" };
    const webhook = await cachedWebhook(env, job.webhookId);
    // A webhook deleted since the message was stored has nobody left to deliver to.
    if (!webhook) return { result: "done" };
    const posted = await post(env, webhook, job);
    const outcome = posted.ok ? "delivered" : posted.permanent ? "failed" : "retrying";
    const record = attemptStatement(env.DB, {
      id: job.deliveryId,
      webhookId: job.webhookId,
      messageId: job.messageId,
      trigger: job.trigger,
      attempts: attempt.number,
      lastStatus: posted.lastStatus,
      lastError: posted.lastError,
      outcome,
    });
    return { result: outcome === "retrying" ? "retry" : outcome === "failed" ? "failed" : "done", records: [record] };
  },

  deadLetterRecords: (env, { deliveryId, webhookId, messageId, trigger }) => [
    gaveUpStatement(env.DB, { id: deliveryId, webhookId, messageId, trigger }),
  ],

  /** Keeps the delivery log of every webhook in the batch within its bounds (config), once a minute per webhook. */
  afterBatch(env, jobs) {
    const { deliveryLogKeep, deliveryLogDays } = config(env);
    const before = Date.now() - deliveryLogDays * 86_400_000;
    const webhooks = [...new Set(jobs.map((job) => job.webhookId))].filter((id) => !recentlyPruned.peek(id));
    for (const id of webhooks) recentlyPruned.set(id, true, PRUNE_EVERY_SECONDS);
    return webhooks.map((id) => pruneDeliveriesStatement(env.DB, id, deliveryLogKeep, before));
  },
};
