import { erasedAmongStatement } from "../db/erased-messages";
import { attemptOf, type Channel, type Job, type QueuedJob, type Sent } from "./channel";
import { GroupCommit } from "./group-commit";
import { LaneOrder } from "./lane-order";
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

/** Puts a channel's jobs on its queue, to be delivered after `delaySeconds` when given. */
async function enqueue(env: Env, channels: ChannelRegistry, channel: Channel, jobs: Job[], delaySeconds?: number): Promise<void> {
  for (let i = 0; i < jobs.length; i += ENQUEUE_CHUNK) {
    const chunk = jobs.slice(i, i + ENQUEUE_CHUNK);
    await channel.queue(env).sendBatch(chunk.map((job) => ({ body: channels.queued(channel, job), contentType: "json" as const, delaySeconds })));
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
  const records = [...groups].flatMap(([channel, messages]) =>
    messages.flatMap((message) => [...channel.deadLetterRecords(env, message.body), ...LaneOrder.deadLetterRecords(env, channel, message.body)]),
  );
  if (records.length > 0) await env.DB.batch(records);
}

/**
 * One D1 batch for the whole queue batch: the jobs about erased messages (src/erasure/ writes
 * their tombstones), what each channel reads for its jobs, and the held lanes of ordered channels.
 */
async function readBatch(env: Env, groups: Map<Channel, Message<QueuedJob>[]>) {
  const jobs = [...groups.values()].flat().map((message) => message.body);
  const order = new LaneOrder(env);
  const reads = [...groups].map(([channel, messages]) => {
    const own = messages.map((m) => m.body);
    return { channel: channel.batchReads?.(env, own) ?? [], order: order.reads(channel, own) };
  });
  const statements = reads.flatMap((read) => [...read.channel, ...read.order]);
  const results = await env.DB.batch<Record<string, unknown>>([erasedAmongStatement(env.DB, jobs.map((job) => job.messageId)), ...statements]);
  const erased = new Set(results[0].results.map((row) => String(row.message_id)));
  const states = new Map<Channel, unknown>();
  let at = 1;
  [...groups.keys()].forEach((channel, i) => {
    const own = results.slice(at, at + reads[i].channel.length);
    at += reads[i].channel.length;
    states.set(channel, channel.batchState?.(own));
    order.load(channel, results.slice(at, at + reads[i].order.length));
    at += reads[i].order.length;
  });
  return { erased, states, order };
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
 * Retry-After), and after the queue's last retry its dead letter is recorded by its channel. A job
 * of an ordered channel whose lane has an earlier job waiting for its retry goes back untried to
 * wait behind it (lane-order.ts).
 */
export async function handleDeliveryBatch(batch: MessageBatch<QueuedJob>, env: Env, channels: ChannelRegistry): Promise<void> {
  const groups = byChannel(channels, batch);
  if (groups.size === 0 || channels.isDeadLetterQueue(batch.queue)) {
    await recordDeadLetters(env, groups);
    for (const message of batch.messages) message.ack();
    return;
  }
  const channelOf = (job: QueuedJob) => channels.channelOf(batch.queue, job);
  const { erased, states, order } = await readBatch(env, groups);
  const records = new GroupCommit<D1PreparedStatement[]>((finished) => env.DB.batch(finished.flat()));
  const record = async (statements: D1PreparedStatement[] | undefined) => {
    if (statements && statements.length > 0) await records.add(statements);
  };

  const work = async (message: Message<QueuedJob>): Promise<Verdict> => {
    const job = message.body;
    const channel = channelOf(job);
    // Of no channel: nobody can send it.
    if (!channel) return ACK;
    // Erased after it was queued: what it would deliver is gone.
    if (erased.has(job.messageId)) {
      await record(order.ended(channel, job));
      return ACK;
    }
    const attempt = attemptOf(job, message.attempts);
    const turn = order.turnOf(channel, job);
    await record(turn.records);
    if (turn.waitSeconds !== undefined) {
      // Back untried, as the budget's leftovers go: waiting is no attempt (unless the queue refuses it back).
      try {
        await enqueue(env, channels, channel, [{ ...job, priorAttempts: attempt - 1 }], Math.min(turn.waitSeconds, MAX_DELAY_SECONDS));
        return ACK;
      } catch (error) {
        console.error(`${channel.kind} job of ${job.messageId} could not be put back to wait; retried instead`, error);
        return retryAfter(Math.min(turn.waitSeconds, MAX_DELAY_SECONDS));
      }
    }
    try {
      const sent = await channel.send(env, job, {
        number: attempt,
        batch: states.get(channel),
        enqueue: (jobs) => enqueue(env, channels, channel, jobs),
      });
      const verdict = verdictOf(env, channel, sent, attempt);
      await record([...(sent.records ?? []), ...order.after(channel, job, verdict)]);
      return verdict;
    } catch (error) {
      console.error(`${channel.kind} delivery of message ${job.messageId} failed`, error);
      const verdict = retryAfter(retryDelaySeconds(channel.retryBaseSeconds(env), attempt));
      await record([...(channel.failedRecords?.(env, job, attempt, error) ?? []), ...order.after(channel, job, verdict)]);
      return verdict;
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
