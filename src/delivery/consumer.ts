import { erasedAmongStatement } from "../db/erased-messages";
import { attemptOf, type Channel, type Job, type QueuedJob, type Sent } from "./channel";
import { GroupCommit } from "./group-commit";
import { ACK, retryAfter, settleEach, type Verdict } from "./queue-settlement";
import type { ChannelRegistry } from "./registry";

/** Queues delays a retry by at most 12 hours, whatever a destination's Retry-After asks. */
const MAX_DELAY_SECONDS = 43_200;
/** A sendBatch takes at most 100 messages and 256 KB. */
const ENQUEUE_CHUNK = 50;

/** The wait before retry n+1 after attempt n failed: base, 2 base, 4 base, ..., or the destination's Retry-After when longer. */
export function retryDelaySeconds(baseSeconds: number, attempt: number, retryAfterSeconds?: number | null): number {
  return Math.min(Math.max(baseSeconds * 2 ** (attempt - 1), retryAfterSeconds ?? 0), MAX_DELAY_SECONDS);
}

/** Puts a channel's jobs on its queue. */
async function enqueue(env: Env, channels: ChannelRegistry, channel: Channel, jobs: Job[]): Promise<void> {
  for (let i = 0; i < jobs.length; i += ENQUEUE_CHUNK) {
    const chunk = jobs.slice(i, i + ENQUEUE_CHUNK);
    await channel.queue(env).sendBatch(chunk.map((job) => ({ body: channels.queued(channel, job), contentType: "json" as const })));
  }
}

/** The batch's messages grouped by their channel; a message of no known channel is logged, and left out. */
function byChannel(channels: ChannelRegistry, batch: MessageBatch<QueuedJob>): Map<Channel, Message<QueuedJob>[]> {
  const groups = new Map<Channel, Message<QueuedJob>[]>();
  for (const message of batch.messages) {
    const channel = channels.channelOf(batch.queue, message.body);
    if (channel) groups.set(channel, [...(groups.get(channel) ?? []), message]);
    else console.error(`delivery: a job of an unknown channel '${message.body.channel}' on ${batch.queue} dropped`);
  }
  return groups;
}

/** What the dead-letter queue receives has used up its retries: the channels record the failures, then it is acknowledged. */
async function recordDeadLetters(env: Env, groups: Map<Channel, Message<QueuedJob>[]>): Promise<void> {
  const records = [...groups].flatMap(([channel, messages]) => messages.flatMap((message) => channel.deadLetterRecords(env, message.body)));
  if (records.length > 0) await env.DB.batch(records);
}

/**
 * One D1 batch for the whole queue batch: the jobs about erased messages (src/erasure/ writes
 * their tombstones), and what each channel reads for its jobs.
 */
async function readBatch(env: Env, groups: Map<Channel, Message<QueuedJob>[]>) {
  const jobs = [...groups.values()].flat().map((message) => message.body);
  const reads = [...groups].map(([channel, messages]) => channel.batchReads?.(env, messages.map((m) => m.body)) ?? []);
  const results = await env.DB.batch<Record<string, unknown>>([erasedAmongStatement(env.DB, jobs.map((job) => job.messageId)), ...reads.flat()]);
  const erased = new Set(results[0].results.map((row) => String(row.message_id)));
  const states = new Map<Channel, unknown>();
  let at = 1;
  [...groups.keys()].forEach((channel, i) => {
    const own = results.slice(at, at + reads[i].length);
    at += reads[i].length;
    states.set(channel, channel.batchState?.(own));
  });
  return { erased, states };
}

const verdictOf = (env: Env, channel: Channel, sent: Sent, attempt: number): Verdict =>
  sent.result === "retry" ? retryAfter(retryDelaySeconds(channel.retryBaseSeconds(env), attempt, sent.retryAfterSeconds)) : ACK;

/**
 * A batch of any channel's queue, or of its dead-letter queue. Each job is sent by its channel
 * and settled as soon as its own outcome is recorded (queue-settlement.ts): jobs of one lane
 * (a channel's destination key) one after another in queue order, lanes side by side; records
 * that finish together share one D1 write (group-commit.ts). A job about an erased message is
 * dropped unsent. Jobs the batch's time budget did not reach go back on their queue untried,
 * carrying their attempt count; a failed attempt is retried with backoff (or the destination's
 * Retry-After), and after the queue's last retry its dead letter is recorded by its channel.
 */
export async function handleDeliveryBatch(batch: MessageBatch<QueuedJob>, env: Env, channels: ChannelRegistry): Promise<void> {
  const groups = byChannel(channels, batch);
  if (groups.size === 0 || channels.isDeadLetterQueue(batch.queue)) {
    await recordDeadLetters(env, groups);
    for (const message of batch.messages) message.ack();
    return;
  }
  const channelOf = (job: QueuedJob) => channels.channelOf(batch.queue, job);
  const { erased, states } = await readBatch(env, groups);
  const records = new GroupCommit<D1PreparedStatement[]>((finished) => env.DB.batch(finished.flat()));
  const record = async (statements: D1PreparedStatement[] | undefined) => {
    if (statements && statements.length > 0) await records.add(statements);
  };

  const work = async (message: Message<QueuedJob>): Promise<Verdict> => {
    const job = message.body;
    const channel = channelOf(job);
    // Erased after it was queued: what it would deliver is gone. Of no channel: nobody can send it.
    if (!channel || erased.has(job.messageId)) return ACK;
    const attempt = attemptOf(job, message.attempts);
    try {
      const sent = await channel.send(env, job, {
        number: attempt,
        batch: states.get(channel),
        enqueue: (jobs) => enqueue(env, channels, channel, jobs),
      });
      await record(sent.records);
      return verdictOf(env, channel, sent, attempt);
    } catch (error) {
      console.error(`${channel.kind} delivery of message ${job.messageId} failed`, error);
      await record(channel.failedRecords?.(env, job, attempt, error));
      return retryAfter(retryDelaySeconds(channel.retryBaseSeconds(env), attempt));
    }
  };

  const report = await settleEach(batch, work, {
    budgetMs: Math.min(...[...groups.keys()].map((channel) => channel.budgetMs(env))),
    lane: (job) => {
      const channel = channelOf(job);
      return channel ? `${channel.kind}:${channel.lane(job)}` : "";
    },
    // Back untried, with the attempts they have had: Queues would count a retry() as one more.
    requeue: async (untried) => {
      for (const [channel, messages] of groups) {
        const mine = untried.filter((message) => messages.includes(message));
        await enqueue(env, channels, channel, mine.map((message) => ({ ...message.body, priorAttempts: attemptOf(message.body, message.attempts) - 1 })));
      }
    },
  });
  await Promise.all([...groups].map(([channel, messages]) => channel.afterCommit?.(env, messages.map((m) => m.body))));
  const housekeeping = report.worked === 0 ? [] : [...groups].flatMap(([channel, messages]) => channel.afterBatch?.(env, messages.map((m) => m.body)) ?? []);
  if (housekeeping.length === 0) return;
  await env.DB.batch(housekeeping).catch((error) => console.error("delivery housekeeping failed", error));
}
