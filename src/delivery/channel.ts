import type { AppUser } from "../db/app-users";
import type { Role } from "../enums";
import type { ConversationMessage, MessageAction } from "../model/message";
import type { Triage } from "../db/conversation-index";

/**
 * Something a conversation records that destinations may hear about: a stored message, a read,
 * a postback. Every channel is offered every event; each makes of it the jobs it wants.
 */
export type ConversationEvent =
  /** `triage`: the conversation's state as it stands with the message (null before the business first changed it). */
  | { kind: "message"; message: ConversationMessage; triage?: Triage | null }
  /** One side read the conversation up to its newest message. */
  | { kind: "read"; read: { role: Role; conversationId: string }; newestMessageId: string }
  | { kind: "postback"; message: ConversationMessage; action: MessageAction }
  /** The business changed the conversation's status or assignee; `assignee` as its webhook shows it. */
  | {
      kind: "triage";
      conversationId: string;
      /** The state before and after the change. */
      outcome: { before: Triage; after: Triage };
      assignee: { email: string; name: string } | null;
      newestMessageId: string | null;
    };

/** What a worker-side call is about to record, so a channel can tell whether it wants a destination at all. */
export type Occasion = { kind: "messages"; roles: Role[] } | { kind: "read" } | { kind: "postback" } | { kind: "triage" };

/**
 * Where each channel delivers a conversation's events, by channel kind, as the worker passes
 * them to the Conversation object with each call (the object holds no app configuration).
 * A kind left out gets no jobs.
 */
export type Destinations = Record<string, unknown>;

/** Every job names the message it concerns: erasure drops the jobs about an erased message. */
export interface Job {
  messageId: string;
  /**
   * Attempts made under earlier queue messages: a job a batch's time budget did not reach is
   * put back as a new message (Queues would charge a retry() an attempt), carrying its count.
   */
  priorAttempts?: number;
}

/** A job as it travels on a queue: naming its channel when another channel owns that queue (ChannelRegistry.queued). */
export type QueuedJob = Job & { channel?: string };

/** Which attempt of its job this queue message is: the backoff and the records count it. */
export const attemptOf = (job: Job, queueAttempts: number) => (job.priorAttempts ?? 0) + queueAttempts;

/**
 * What one attempt came to. `records` are the D1 statements that say so (an outcome record,
 * a token cleared); they are written before the job is settled, so a failed write retries the
 * job rather than losing its record.
 */
export interface Sent {
  /** done: delivered, or nothing left to do; retry: try again later; failed: never will be. */
  result: "done" | "retry" | "failed";
  /** The destination's Retry-After, in seconds: a retry waits at least that long. */
  retryAfterSeconds?: number | null;
  records?: D1PreparedStatement[];
}

/** What a channel's `send` has besides the job. */
export interface Attempt<State> {
  /** This attempt's number (1 for the first). */
  number: number;
  /** What the channel read for the whole batch (see `batchReads`). */
  batch: State;
  /** Puts more jobs of this channel on its queue (a fan-out); resolves once they are queued. */
  enqueue: (jobs: Job[]) => Promise<void>;
}

/**
 * One kind of destination (webhooks, push, ...): what it wants from an event, how it sends one
 * job, and what an outcome means. The pipeline (src/delivery/) does the rest for every channel:
 * the outbox written with the event, the drain, dead letters, erased-message drops, per-message
 * settlement within a time budget, ordering per `lane` (across retries when `ordered`), and
 * retries with backoff.
 */
export interface Channel<J extends Job = Job, D = unknown, State = unknown> {
  /** The key of its destinations, its outbox rows and its queue messages. */
  readonly kind: string;
  /** The queue its jobs go on, and that queue's name and its dead-letter queue's (wrangler.toml). */
  queue(env: Env): Queue<QueuedJob>;
  readonly queueName: string;
  readonly deadLetterQueueName: string;

  // --- worker side, before the conversation call
  /** Where this user's events go on this occasion; undefined for nowhere (then no job is written). */
  destinationFor(env: Env, user: AppUser, occasion: Occasion): Promise<D | undefined>;
  /** The destination once a merge handed the conversation over to the survivor's user. */
  handOver?(destination: D, to: { conversationId: string; toAuthorId: string }): D;

  // --- in the Conversation object, inside the transaction that records the event
  /** The jobs an event makes for a destination; `conversation` is the object's id. */
  jobsFor(event: ConversationEvent, destination: D, conversation: string): J[];

  // --- the consumer
  /** Jobs with the same lane are sent one after another in queue order; lanes run side by side. */
  lane(job: J): string;
  /**
   * Whether a lane keeps its order across retries too: a job waits, untried, behind an earlier
   * job of its lane that is due for a retry, until that one is done or dead-lettered
   * (lane-order.ts). Without it a retried job is overtaken by the later ones.
   */
  readonly ordered?: boolean;
  /** After this long a batch starts no further job of this channel. */
  budgetMs(env: Env): number;
  /** The wait before retry n+1 after attempt n failed is base, 2 base, 4 base, ... */
  retryBaseSeconds(env: Env): number;
  /** D1 reads for the whole batch, run in the one D1 batch that finds the erased messages. */
  batchReads?(env: Env, jobs: J[]): D1PreparedStatement[];
  /** What the batch's reads say, handed to every attempt. */
  batchState?(results: D1Result<Record<string, unknown>>[]): State;
  send(env: Env, job: J, attempt: Attempt<State>): Promise<Sent>;
  /** The records of an attempt whose work threw (D1 or a queue failing): it is retried with backoff. */
  failedRecords?(env: Env, job: J, attempt: number, error: unknown): D1PreparedStatement[];
  /** The records of a job that used up its retries (its dead letter). */
  deadLetterRecords(env: Env, job: J): D1PreparedStatement[];
  /** Once the batch's records are committed: tells whoever watches what the batch changed (a failure is its own to log). */
  afterCommit?(env: Env, jobs: J[]): Promise<void>;
  /** Housekeeping once a batch sent something (bounding a log); a failure is left for a later batch. */
  afterBatch?(env: Env, jobs: J[]): D1PreparedStatement[];
}
