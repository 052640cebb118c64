/** A queue batch holds at most 100 messages and 256 KB; stay below both. */
const MAX_BATCH_MESSAGES = 100;
const MAX_BATCH_BYTES = 200_000;
const MAX_ENQUEUE_BACKOFF_MS = 60_000;

/**
 * The object's one alarm, which drains all its outboxes: set only when it is not already known to
 * be set as soon, so that a post costs no storage write for it while an alarm is pending. Known
 * only from this instance's own writes (or what it read at start) and forgotten when the alarm
 * starts: a fresh instance, or an alarm that failed, costs at most one more write, never a missed
 * alarm.
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

/**
 * A table of jobs in the Conversation's storage, written in the same transaction as whatever
 * they are about, then moved to their queue in the order written: right after that transaction,
 * and by the object's alarm should that fail, which keeps retrying until the queue takes them.
 * Every job names the message it concerns.
 */
export class JobOutbox<Job extends { messageId: string }> {
  private readonly sql: SqlStorage;
  private failedEnqueues = 0;
  /** Known to be empty (this instance drained it, nothing was put since): a drain skips reading it. */
  private drained = false;
  /** Jobs put by this instance: a drain tells by it whether any came in while it sent a batch. */
  private puts = 0;

  constructor(
    ctx: DurableObjectState,
    private readonly alarm: OutboxAlarm,
    private readonly queue: Queue<Job>,
    /** The table, and what the log calls its jobs. */
    private readonly table: string,
    private readonly what: string,
  ) {
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS ${table} (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      job TEXT NOT NULL
    )`);
  }

  /** Writes a job: call inside the transaction that records what it is about, and drain after it. */
  put(job: Job): void {
    this.sql.exec(`INSERT INTO ${this.table} (job) VALUES (?)`, JSON.stringify(job));
    this.drained = false;
    this.puts++;
  }

  /** Drops the jobs about these messages: call inside the transaction that erases them. */
  dropFor(messageIds: string[]): void {
    this.sql.exec(
      `DELETE FROM ${this.table} WHERE json_extract(job, '$.messageId') IN (SELECT value FROM json_each(?))`,
      JSON.stringify(messageIds),
    );
  }

  /** Drops every job: call inside the transaction that erases the whole conversation. */
  dropAll(): void {
    this.sql.exec(`DELETE FROM ${this.table}`);
  }

  get pending(): boolean {
    return this.sql.exec(`SELECT 1 FROM ${this.table} LIMIT 1`).toArray().length > 0;
  }

  /** Has the alarm drain the outbox now, unless it is already set to. */
  async wake(): Promise<void> {
    await this.alarm.schedule(Date.now());
  }

  /**
   * Sends the jobs to the queue in order, a batch at a time, until the outbox is empty; should
   * the queue refuse a batch, the alarm tries again after a growing backoff.
   */
  async drain(): Promise<void> {
    while (!this.drained) {
      const puts = this.puts;
      const { batch, more } = this.nextBatch();
      if (batch.length === 0) {
        this.drained = true;
        return;
      }
      try {
        await this.queue.sendBatch(batch.map(({ job }) => ({ body: job, contentType: "json" as const })));
      } catch (error) {
        this.failedEnqueues++;
        const backoff = Math.min(1000 * 2 ** this.failedEnqueues, MAX_ENQUEUE_BACKOFF_MS);
        console.error(`${this.what} enqueue failed, retrying in ${backoff} ms`, error);
        await this.alarm.schedule(Date.now() + backoff);
        return;
      }
      this.failedEnqueues = 0;
      this.sql.exec(`DELETE FROM ${this.table} WHERE seq <= ?`, batch[batch.length - 1].seq);
      // Known empty, without reading it again, when the batch took every job and none was put since.
      if (!more && this.puts === puts) this.drained = true;
    }
  }

  /** The oldest jobs, within a queue batch's limits, and whether the outbox holds more. */
  private nextBatch(): { batch: { seq: number; job: Job }[]; more: boolean } {
    const batch: { seq: number; job: Job }[] = [];
    let bytes = 0;
    const rows = this.sql
      .exec<{ seq: number; job: string }>(`SELECT seq, job FROM ${this.table} ORDER BY seq LIMIT ?`, MAX_BATCH_MESSAGES + 1)
      .toArray();
    for (const row of rows.slice(0, MAX_BATCH_MESSAGES)) {
      bytes += row.job.length;
      if (batch.length > 0 && bytes > MAX_BATCH_BYTES) break;
      batch.push({ seq: row.seq, job: JSON.parse(row.job) });
    }
    return { batch, more: rows.length > batch.length };
  }
}
