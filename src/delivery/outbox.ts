import type { Channel, ConversationEvent, Destinations, QueuedJob } from "./channel";
import type { ChannelRegistry } from "./registry";

/** A queue batch holds at most 100 messages and 256 KB; stay below both. */
const MAX_BATCH_MESSAGES = 100;
const MAX_BATCH_BYTES = 200_000;
const MAX_ENQUEUE_BACKOFF_MS = 60_000;

/**
 * The outbox's table, for the Conversation's schema (src/conversation/object/schema.ts). `channel`'s
 * default names the only channel whose jobs this table held before it had the column.
 */
export const OUTBOX_TABLE = `CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  job TEXT NOT NULL,
  channel TEXT NOT NULL DEFAULT 'webhook'
)`;

/**
 * Brings an object's outbox from before the one pipeline onto it, jobs kept in their order:
 * the webhook outbox gains its `channel` column, and the push outbox's jobs move in.
 */
export function migrateOutbox(sql: SqlStorage): void {
  sql.exec(OUTBOX_TABLE);
  if (!sql.exec("SELECT * FROM outbox LIMIT 0").columnNames.includes("channel")) {
    sql.exec("ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'webhook'");
  }
  sql.exec("CREATE TABLE IF NOT EXISTS push_outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT NOT NULL)");
  sql.exec("INSERT INTO outbox (job, channel) SELECT job, 'push' FROM push_outbox ORDER BY seq");
  sql.exec("DROP TABLE push_outbox");
}

/**
 * The object's one alarm, which drains the outbox (and the media trash): set only when it is not
 * already known to be set as soon, so that a post costs no storage write for it while an alarm
 * is pending. Known only from this instance's own writes (or what it read at start) and forgotten
 * when the alarm starts: a fresh instance, or an alarm that failed, costs at most one more
 * write, never a missed alarm.
 */
export class OutboxAlarm {
  /** When the alarm is known to be set for; null when this instance knows of none pending. */
  private at: number | null = null;

  constructor(private readonly storage: DurableObjectStorage) {}

  /** Has the alarm run at `at`, or sooner if it is already set sooner. */
  async schedule(at: number): Promise<void> {
    if (this.at !== null && this.at <= at) return;
    await this.storage.setAlarm(at);
    this.at = at;
  }

  /** What the object read at start (getAlarm). */
  know(at: number | null): void {
    this.at = at;
  }

  /** The alarm has started: whatever is added from now on needs another. */
  started(): void {
    this.at = null;
  }
}

interface Row {
  seq: number;
  channel: string;
  job: string;
}

/**
 * The Conversation's transactional outbox, one for every channel: the jobs each channel makes of
 * an event, written in the same storage transaction as whatever the event records, then moved to
 * their channels' queues in the order written: right after that transaction, and by the object's
 * alarm should that fail, which keeps retrying until the queues take them.
 */
export class Outbox {
  private readonly sql: SqlStorage;
  /** The object's id: a channel may keep one conversation's jobs in order by it. */
  private readonly conversation: string;
  private failedEnqueues = 0;
  /** Known to be empty (this instance drained it, nothing was put since): a drain skips reading it. */
  private drained = false;
  /** Jobs put by this instance: a drain tells by it whether any came in while it sent a batch. */
  private puts = 0;

  constructor(
    ctx: DurableObjectState,
    private readonly alarm: OutboxAlarm,
    private readonly channels: ChannelRegistry,
    private readonly env: Env,
  ) {
    this.sql = ctx.storage.sql;
    this.conversation = ctx.id.toString();
  }

  /**
   * Writes the jobs each channel with a destination makes of the event, and returns how many.
   * Call it inside the storage transaction that records the event, and drain once it committed.
   */
  add(event: ConversationEvent, destinations: Destinations | undefined): number {
    if (!destinations) return 0;
    let written = 0;
    for (const [kind, destination] of Object.entries(destinations)) {
      const channel = this.channels.get(kind);
      if (!channel || destination === undefined) continue;
      for (const job of channel.jobsFor(event, destination, this.conversation)) {
        this.sql.exec("INSERT INTO outbox (job, channel) VALUES (?, ?)", JSON.stringify(job), kind);
        written++;
      }
    }
    if (written > 0) {
      this.drained = false;
      this.puts += written;
    }
    return written;
  }

  /** Drops the jobs about these messages: call inside the transaction that erases them. */
  dropFor(messageIds: string[]): void {
    this.sql.exec(
      "DELETE FROM outbox WHERE json_extract(job, '$.messageId') IN (SELECT value FROM json_each(?))",
      JSON.stringify(messageIds),
    );
  }

  /** Drops every job: call inside the transaction that erases the whole conversation. */
  dropAll(): void {
    this.sql.exec("DELETE FROM outbox");
  }

  get pending(): boolean {
    return this.sql.exec("SELECT 1 FROM outbox LIMIT 1").toArray().length > 0;
  }

  /** Has the alarm drain the outbox now, unless it is already set to. */
  async wake(): Promise<void> {
    await this.alarm.schedule(Date.now());
  }

  /** The queue a channel's jobs go on. */
  protected queueOf(channel: Channel): Queue<QueuedJob> {
    return channel.queue(this.env);
  }

  /**
   * Sends the jobs to their queues in order, a batch at a time, until the outbox is empty;
   * should a queue refuse a batch, the alarm tries again after a growing backoff.
   */
  async drain(): Promise<void> {
    while (!this.drained) {
      const puts = this.puts;
      const { batch, more } = this.nextBatch();
      if (batch.length === 0) {
        this.drained = true;
        return;
      }
      const done = await this.send(batch);
      if (done.length === batch.length) {
        this.sql.exec("DELETE FROM outbox WHERE seq <= ?", batch[batch.length - 1].seq);
      } else {
        this.sql.exec("DELETE FROM outbox WHERE seq IN (SELECT value FROM json_each(?))", JSON.stringify(done.map((row) => row.seq)));
        this.failedEnqueues++;
        const backoff = Math.min(1000 * 2 ** this.failedEnqueues, MAX_ENQUEUE_BACKOFF_MS);
        await this.alarm.schedule(Date.now() + backoff);
        return;
      }
      this.failedEnqueues = 0;
      // Known empty, without reading it again, when the batch took every job and none was put since.
      if (!more && this.puts === puts) this.drained = true;
    }
  }

  /**
   * Sends a batch's jobs: each channel's to its queue in one sendBatch, in the order they were
   * written, the channels side by side (a queue keeps its own order, and none is promised across
   * queues). Returns the rows done with: sent, or of a channel no longer known. A refused
   * channel's rows stay, the oldest of that channel, so they still go before its later ones.
   */
  private async send(batch: Row[]): Promise<Row[]> {
    const byChannel = new Map<string, Row[]>();
    for (const row of batch) {
      const rows = byChannel.get(row.channel);
      if (rows) rows.push(row);
      else byChannel.set(row.channel, [row]);
    }
    const done = await Promise.all(
      [...byChannel].map(async ([kind, rows]) => {
        const channel = this.channels.get(kind);
        if (!channel) {
          console.error(`outbox: ${rows.length} jobs of an unknown channel '${kind}' dropped`);
          return rows;
        }
        try {
          await this.queueOf(channel).sendBatch(rows.map((row) => ({ body: this.channels.queued(channel, JSON.parse(row.job)), contentType: "json" as const })));
          return rows;
        } catch (error) {
          console.error(`${kind} enqueue failed, retrying with backoff`, error);
          return [];
        }
      }),
    );
    return done.flat();
  }

  /** The oldest jobs, within a queue batch's limits, and whether the outbox holds more. */
  private nextBatch(): { batch: Row[]; more: boolean } {
    const batch: Row[] = [];
    let bytes = 0;
    const rows = this.sql
      .exec<{ seq: number; channel: string; job: string }>("SELECT seq, channel, job FROM outbox ORDER BY seq LIMIT ?", MAX_BATCH_MESSAGES + 1)
      .toArray();
    for (const row of rows.slice(0, MAX_BATCH_MESSAGES)) {
      bytes += row.job.length;
      if (batch.length > 0 && bytes > MAX_BATCH_BYTES) break;
      batch.push(row);
    }
    return { batch, more: rows.length > batch.length };
  }
}
