import type { Channel, Job, Sent } from "../../delivery/channel";
import { businessReadStatement, indexMessageStatements, triageStatement, type Triage } from "../../db/conversation-index";
import { announceChanges } from "../../desk-live/announce";
import { newId } from "../../lib/ids";
import type { ConversationMessage } from "../../model/message";

/** Whose conversation a job is about. */
export interface IndexTarget {
  appId: string;
  appUserId: string;
}

/** A stored message to index (with the triage state it stands with), the business's read (at `at`, unix seconds), or a triage change. */
export type IndexJob = Job &
  IndexTarget &
  ({ op: "message"; message: ConversationMessage; triage?: Triage } | { op: "read"; at: number } | { op: "triage"; triage: Triage });

/** A retry comes soon: the index is meant to be fresh within 2 s. */
const RETRY_BASE_SECONDS = 1;
const BATCH_BUDGET_MS = 20_000;

/**
 * The conversation index (the Desk's list and search, GET /v1/conversations): every stored message,
 * every read by the business and every triage change is a job on the index queue, written with the
 * event in the Conversation's outbox, so the post's response never waits for the index and a crash loses none.
 * The consumer indexes a batch's jobs together: their statements finish into shared D1 batches
 * (src/delivery/group-commit.ts). Erasure needs nothing here: a tombstone deletes the indexed
 * message (migrations/0013), and a job about an erased message writes nothing.
 */
export const indexChannel: Channel<IndexJob, IndexTarget, null> = {
  kind: "index",
  queue: (env) => env.INDEX,
  queueName: "parley-index",
  deadLetterQueueName: "parley-index-dlq",

  destinationFor: async (_env, user, occasion) => (occasion.kind === "postback" ? undefined : { appId: user.appId, appUserId: user.id }),
  handOver: (target, to) => ({ ...target, appUserId: to.toAuthorId }),

  jobsFor(event, target) {
    if (event.kind === "message") {
      return [{ ...target, op: "message", messageId: event.message._id, message: event.message, ...(event.triage && { triage: event.triage }) }];
    }
    // Named by an id of its own: erasing the newest message must not drop the state with it.
    if (event.kind === "triage") return [{ ...target, op: "triage", messageId: newId(), triage: event.outcome.after }];
    if (event.kind === "read" && event.read.role === "appMaker") {
      return [{ ...target, op: "read", messageId: event.newestMessageId, at: Date.now() / 1000 }];
    }
    return [];
  },

  lane: (job) => job.appUserId,
  budgetMs: () => BATCH_BUDGET_MS,
  retryBaseSeconds: () => RETRY_BASE_SECONDS,

  async send(env, job): Promise<Sent> {
    if (job.op === "read") return { result: "done", records: [businessReadStatement(env.DB, job.appUserId, job.at)] };
    if (job.op === "triage") return { result: "done", records: [triageStatement(env.DB, job.appId, job.appUserId, job.triage)] };
    const { message } = job;
    return {
      result: "done",
      records: indexMessageStatements(env.DB, {
        appId: job.appId,
        appUserId: job.appUserId,
        messageId: message._id,
        role: message.role,
        received: message.received,
        json: JSON.stringify(message),
        avatarUrl: message.avatarUrl ?? null,
        triage: job.triage ?? null,
      }),
    };
  },

  // The app's open Desks hear of the batch's conversations once their rows are written: one call per app.
  async afterCommit(env, jobs) {
    const byApp = new Map<string, string[]>();
    for (const job of jobs) byApp.set(job.appId, [...(byApp.get(job.appId) ?? []), job.appUserId]);
    await Promise.all([...byApp].map(([appId, appUserIds]) => announceChanges(env, appId, appUserIds)));
  },

  deadLetterRecords(_env, job) {
    // Logged only: the list and search miss this message (its conversation shows again with the next one).
    console.error(`index: job about message ${job.messageId} of ${job.appUserId} gave up`);
    return [];
  },
};
