import { holdStatement, laneHoldsStatement, releaseStatement, toLaneHold, type LaneHold } from "../db/lane-holds";
import type { Channel, Job } from "./channel";
import type { Verdict } from "./queue-settlement";

/** A job waiting behind its lane's first comes back this long after that one is due: after it, as a rule. */
const WAIT_MARGIN_SECONDS = 2;
/**
 * A first job this long past due is taken for lost (its dead letter never recorded, say): the
 * lane moves on without it rather than stand still for good.
 */
const LOST_AFTER_MS = 15 * 60_000;

/** What a job of an ordered lane does now: go (writing `records` first), or wait `waitSeconds` behind an earlier job. */
export interface Turn {
  records: D1PreparedStatement[];
  waitSeconds?: number;
}

type Held = Omit<LaneHold, "lane">;

/**
 * Order across retries for the channels that ask for it (`Channel.ordered`). A job that must be
 * retried holds its place in its lane (a D1 row, written with its outcome records), and so does
 * every later job of the lane that arrives while it waits: those go back on the queue untried,
 * uncharged, to come back after it. Only the lane's first held job is sent; each row goes when its
 * job is done, failed, dropped or dead-lettered, and the lane moves on. The cost in the usual case
 * (no failure) is one statement in the batch's one D1 read, finding no row.
 */
export class LaneOrder {
  /** Each held lane's jobs in order, by `kind:lane`, as read at the batch's start and kept since. */
  private readonly held = new Map<string, Held[]>();

  constructor(
    private readonly env: Env,
    private readonly now: () => number = Date.now,
  ) {}

  /** The reads to add to the batch's D1 read: the holds on the lanes of its ordered channels' jobs. */
  reads(channel: Channel, jobs: Job[]): D1PreparedStatement[] {
    if (!channel.ordered || jobs.length === 0) return [];
    return [laneHoldsStatement(this.env.DB, channel.kind, [...new Set(jobs.map((job) => channel.lane(job)))])];
  }

  /** What those reads found. */
  load(channel: Channel, results: D1Result<Record<string, unknown>>[]): void {
    for (const hold of results.flatMap((result) => result.results.map(toLaneHold))) {
      this.lane(channel, hold.lane).push({ messageId: hold.messageId, dueAt: hold.dueAt });
    }
  }

  /** Whether the job may be sent now, or waits behind an earlier job of its lane. */
  turnOf(channel: Channel, job: Job): Turn {
    if (!channel.ordered) return { records: [] };
    const lane = channel.lane(job);
    const queue = this.lane(channel, lane);
    const records: D1PreparedStatement[] = [];
    const now = this.now();
    while (queue.length > 0 && queue[0].messageId !== job.messageId && queue[0].dueAt + LOST_AFTER_MS < now) {
      console.error(`delivery: ${channel.kind} job of ${queue[0].messageId} long overdue; its lane moves on without it`);
      records.push(releaseStatement(this.env.DB, channel.kind, lane, queue.shift()!.messageId));
    }
    const first = queue[0];
    if (!first || first.messageId === job.messageId) return { records };
    const waitSeconds = Math.max(0, Math.ceil((first.dueAt - now) / 1000)) + WAIT_MARGIN_SECONDS;
    records.push(this.hold(channel, lane, job, now + waitSeconds * 1000));
    return { records, waitSeconds };
  }

  /** The records that go with an attempt's verdict: a retry holds the job's place, anything else frees it. */
  after(channel: Channel, job: Job, verdict: Verdict): D1PreparedStatement[] {
    if (!channel.ordered) return [];
    const lane = channel.lane(job);
    if (!verdict.ack) return [this.hold(channel, lane, job, this.now() + (verdict.delaySeconds ?? 0) * 1000)];
    return this.release(channel, lane, job);
  }

  /** The records of a job that ends unsent (dropped, dead-lettered): it frees its place, if it held one. */
  ended(channel: Channel, job: Job): D1PreparedStatement[] {
    return channel.ordered ? this.release(channel, channel.lane(job), job) : [];
  }

  /** The statements freeing dead letters' places: their lanes were not read, so each is written. */
  static deadLetterRecords(env: Env, channel: Channel, job: Job): D1PreparedStatement[] {
    return channel.ordered ? [releaseStatement(env.DB, channel.kind, channel.lane(job), job.messageId)] : [];
  }

  private lane(channel: Channel, lane: string): Held[] {
    const key = `${channel.kind}:${lane}`;
    let queue = this.held.get(key);
    if (!queue) this.held.set(key, (queue = []));
    return queue;
  }

  private hold(channel: Channel, lane: string, job: Job, dueAt: number): D1PreparedStatement {
    const queue = this.lane(channel, lane);
    const mine = queue.find((held) => held.messageId === job.messageId);
    if (mine) mine.dueAt = dueAt;
    else queue.push({ messageId: job.messageId, dueAt });
    return holdStatement(this.env.DB, channel.kind, lane, job.messageId, dueAt);
  }

  private release(channel: Channel, lane: string, job: Job): D1PreparedStatement[] {
    const queue = this.lane(channel, lane);
    const at = queue.findIndex((held) => held.messageId === job.messageId);
    if (at < 0) return [];
    queue.splice(at, 1);
    return [releaseStatement(this.env.DB, channel.kind, lane, job.messageId)];
  }
}
