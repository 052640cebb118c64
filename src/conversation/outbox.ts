import type { EventTrigger } from "../enums";
import { newId } from "../lib/ids";
import { matches, MAX_JOBS_PER_EVENT, type DeliveryJob, type Fanout } from "../webhooks/delivery";

/** A queue batch holds at most 100 messages and 256 KB; stay below both. */
const MAX_BATCH_MESSAGES = 100;
const MAX_BATCH_BYTES = 200_000;
const MAX_ENQUEUE_BACKOFF_MS = 60_000;

/** Something webhooks hear about: a stored message, a postback, a read. */
export interface WebhookEvent {
  trigger: EventTrigger;
  /** The message it concerns (see DeliveryJob.messageId). */
  messageId: string;
  /** The payload every delivery posts, about the fan-out's user; built only when a webhook listens. */
  payload: (appUser: Fanout["appUser"]) => Record<string, unknown>;
}

/**
 * The Conversation's transactional outbox: one job per event and webhook, written in the same
 * storage transaction as whatever the event records, then moved to the WEBHOOKS queue in the
 * order written by the object's alarm, which keeps retrying until the queue takes them.
 */
export class Outbox {
  private readonly sql: SqlStorage;
  private failedEnqueues = 0;
  /**
   * Whether this instance knows an alarm to be set and not yet started: `wake` then skips
   * setAlarm, a storage write that every post with a webhook used to make. Only ever true after
   * this instance saw the alarm set (or read it at start), and false from the moment the alarm
   * starts: a fresh instance, or an alarm that failed, costs at most one more setAlarm, never a
   * missed one.
   */
  private armed = false;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly queue: Queue<DeliveryJob>,
  ) {
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS outbox (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      job TEXT NOT NULL
    )`);
  }

  /**
   * Writes a job for each of the fan-out's webhooks that listens to the event's trigger, and
   * returns how many. Call it inside the storage transaction that records the event, and set the
   * alarm (`wake`) once that transaction has committed.
   */
  add(event: WebhookEvent, fanout: Fanout | undefined): number {
    // Bounded whatever the caller passes: an event never writes more than the cap.
    const routes = (fanout?.webhooks.filter((route) => matches(route, event.trigger)) ?? []).slice(0, MAX_JOBS_PER_EVENT);
    if (!fanout || routes.length === 0) return 0;
    // Built once, so every delivery and every retry posts the same bytes.
    const body = JSON.stringify(event.payload(fanout.appUser));
    for (const route of routes) {
      const job: DeliveryJob = {
        conversation: this.ctx.id.toString(),
        deliveryId: newId(),
        webhookId: route.id,
        messageId: event.messageId,
        trigger: event.trigger,
        body,
      };
      this.sql.exec("INSERT INTO outbox (job) VALUES (?)", JSON.stringify(job));
    }
    return routes.length;
  }

  /** Drops the jobs about these messages: call inside the transaction that erases them. */
  dropFor(messageIds: string[]): void {
    this.sql.exec(
      "DELETE FROM outbox WHERE json_extract(job, '$.messageId') IN (SELECT value FROM json_each(?))",
      JSON.stringify(messageIds),
    );
  }

  get pending(): boolean {
    return this.sql.exec("SELECT 1 FROM outbox LIMIT 1").toArray().length > 0;
  }

  /** Has the alarm drain the outbox now, unless it is already set to. */
  async wake(): Promise<void> {
    if (this.armed) return;
    await this.ctx.storage.setAlarm(Date.now());
    this.armed = true;
  }

  /** What the object read at start: an alarm already set needs no other. */
  knowAlarm(set: boolean): void {
    this.armed = set;
  }

  /** The alarm has started: whatever is added from now on needs another. */
  alarmStarted(): void {
    this.armed = false;
  }

  /** Sends the oldest jobs to the queue in order; keeps the alarm set until the outbox is empty. */
  async drain(): Promise<void> {
    const batch = this.nextBatch();
    if (batch.length === 0) return;
    try {
      await this.queue.sendBatch(batch.map(({ job }) => ({ body: job, contentType: "json" as const })));
    } catch (error) {
      this.failedEnqueues++;
      const backoff = Math.min(1000 * 2 ** this.failedEnqueues, MAX_ENQUEUE_BACKOFF_MS);
      console.error(`webhook enqueue failed, retrying in ${backoff} ms`, error);
      await this.ctx.storage.setAlarm(Date.now() + backoff);
      this.armed = true;
      return;
    }
    this.failedEnqueues = 0;
    this.sql.exec("DELETE FROM outbox WHERE seq <= ?", batch[batch.length - 1].seq);
    if (this.pending) await this.wake();
  }

  private nextBatch(): { seq: number; job: DeliveryJob }[] {
    const batch: { seq: number; job: DeliveryJob }[] = [];
    let bytes = 0;
    const rows = this.sql.exec<{ seq: number; job: string }>("SELECT seq, job FROM outbox ORDER BY seq LIMIT ?", MAX_BATCH_MESSAGES);
    for (const row of rows) {
      bytes += row.job.length;
      if (batch.length > 0 && bytes > MAX_BATCH_BYTES) break;
      batch.push({ seq: row.seq, job: JSON.parse(row.job) });
    }
    return batch;
  }
}
