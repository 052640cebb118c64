import { DurableObject } from "cloudflare:workers";
import { messageTrigger } from "../enums";
import { newId } from "../lib/ids";
import type { ConversationMessage, NewMessage } from "../presenters/message";
import { matches, type DeliveryJob, type Fanout } from "../webhooks/delivery";
import { PAGE_SIZE, type MessagePage } from "./page";
import { Subscribers, type ChannelKind } from "./subscribers";

/** A queue batch holds at most 100 messages and 256 KB; stay below both. */
const MAX_BATCH_MESSAGES = 100;
const MAX_BATCH_BYTES = 200_000;
const MAX_ENQUEUE_BACKOFF_MS = 60_000;

/** Set once a merge has taken this conversation's messages: later appends go to the survivor. */
export interface HandOver {
  conversationId: string;
  fromAuthorId: string;
  toAuthorId: string;
}

interface MessageRow extends Record<string, SqlStorageValue> {
  received_ms: number;
  body: string;
}

const toMessage = (row: MessageRow): ConversationMessage => ({ ...JSON.parse(row.body), received: row.received_ms / 1000 });

/**
 * One app user's conversation. It alone writes its messages, so appends are serialised and
 * `received` can be made unique and strictly increasing without any coordination.
 */
export class Conversation extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private lastReceivedMs = 0;
  private failedEnqueues = 0;
  private handedOver: HandOver | null = null;
  private subscribers!: Subscribers;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      // received_ms is the rowid: ordered, unique, and an index for paging at no extra cost.
      this.sql.exec(`CREATE TABLE IF NOT EXISTS messages (
        received_ms INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        body TEXT NOT NULL
      )`);
      // The transactional outbox: deliveries written with their message, drained by the alarm.
      this.sql.exec(`CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        job TEXT NOT NULL
      )`);
      this.sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
      this.subscribers = new Subscribers(this.sql, env);
      const last = this.sql.exec<{ last: number | null }>("SELECT MAX(received_ms) AS last FROM messages").one();
      this.lastReceivedMs = last.last ?? 0;
      const handOver = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'handOver'").toArray();
      this.handedOver = handOver.length > 0 ? JSON.parse(handOver[0].value) : null;
      // An outbox whose alarm the runtime gave up on is picked up again when the object wakes.
      if (this.exists("SELECT 1 FROM outbox LIMIT 1") && (await ctx.storage.getAlarm()) === null) {
        await ctx.storage.setAlarm(Date.now());
      }
    });
  }

  /**
   * Appends messages in order and returns them with the newest page of the conversation.
   * Each message's webhook deliveries are written in the same transaction, and the alarm that
   * sends them is set before the call returns: a stored message always gets its deliveries.
   */
  async append(messages: NewMessage[], fanout?: Fanout): Promise<{ appended: ConversationMessage[]; page: MessagePage }> {
    if (this.handedOver) return this.forward(this.handedOver, messages, fanout);
    let queued = 0;
    const appended = this.ctx.storage.transactionSync(() =>
      messages.map((message) => {
        // Two messages in the same millisecond still get distinct, increasing timestamps.
        const receivedMs = Math.max(Date.now(), this.lastReceivedMs + 1);
        this.insert(message, receivedMs);
        const stored = { ...message, received: receivedMs / 1000 };
        if (fanout) queued += this.queueDeliveries(stored, fanout);
        return stored;
      }),
    );
    if (queued > 0) await this.ctx.storage.setAlarm(Date.now());
    // Off the response's path: a stored message reaches its subscribers in received order.
    this.ctx.waitUntil(this.subscribers.publish("messages", appended));
    return { appended, page: this.newest() };
  }

  /** A realtime client subscribes to one of this conversation's channels (or its user's). */
  async subscribe(client: string, channel: string, kind: ChannelKind): Promise<void> {
    this.subscribers.add(client, channel, kind);
  }

  /** A realtime client drops one subscription here, or all of them. */
  async unsubscribe(client: string, channel?: string): Promise<void> {
    this.subscribers.remove(client, channel);
  }

  newest(limit = PAGE_SIZE): MessagePage {
    return this.before(Number.MAX_SAFE_INTEGER, limit);
  }

  /** The newest `limit` messages received strictly before `beforeMs`, oldest first. */
  before(beforeMs: number, limit = PAGE_SIZE): MessagePage {
    const { messages, more } = this.read("received_ms < ? ORDER BY received_ms DESC", beforeMs, limit);
    const hasNewer = this.exists("SELECT 1 FROM messages WHERE received_ms >= ? LIMIT 1", beforeMs);
    return { messages: messages.reverse(), hasOlder: more, hasNewer };
  }

  /** The oldest `limit` messages received strictly after `afterMs`, oldest first. */
  after(afterMs: number, limit = PAGE_SIZE): MessagePage {
    const { messages, more } = this.read("received_ms > ? ORDER BY received_ms ASC", afterMs, limit);
    const hasOlder = this.exists("SELECT 1 FROM messages WHERE received_ms <= ? LIMIT 1", afterMs);
    return { messages, hasOlder, hasNewer: more };
  }

  /** Up to `limit` messages in the given order from a bound, and whether more lie beyond. */
  private read(boundAndOrder: string, bound: number, limit: number): { messages: ConversationMessage[]; more: boolean } {
    const rows = this.sql
      .exec<MessageRow>(`SELECT received_ms, body FROM messages WHERE ${boundAndOrder} LIMIT ?`, bound, limit + 1)
      .toArray();
    return { messages: rows.slice(0, limit).map(toMessage), more: rows.length > limit };
  }

  /**
   * Hands every message to the conversation a merge keeps, and from now on forwards appends
   * there: a message posted to the merged user while the merge runs is not lost.
   */
  async handOver(to: HandOver): Promise<ConversationMessage[]> {
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('handOver', ?)", JSON.stringify(to));
    this.handedOver = to;
    return this.sql.exec<MessageRow>("SELECT received_ms, body FROM messages ORDER BY received_ms").toArray().map(toMessage);
  }

  /**
   * Takes in another conversation's messages at their own `received` times (nudged by a
   * millisecond where one is taken), authored by `authorId` where they were the merged user's.
   * Idempotent: a message already here is skipped, so a merge interrupted halfway can run again.
   */
  async absorb(messages: ConversationMessage[], fromAuthorId: string, toAuthorId: string): Promise<void> {
    this.ctx.storage.transactionSync(() => {
      for (const { received, ...message } of messages) {
        if (this.exists("SELECT 1 FROM messages WHERE id = ?", message._id)) continue;
        let receivedMs = Math.round(received * 1000);
        while (this.exists("SELECT 1 FROM messages WHERE received_ms = ?", receivedMs)) receivedMs++;
        const authorId = message.authorId === fromAuthorId ? toAuthorId : message.authorId;
        this.insert({ ...message, authorId }, receivedMs);
      }
    });
  }

  /** Forgets every message, once a merge has moved them elsewhere (see handOver). */
  async clear(): Promise<void> {
    this.sql.exec("DELETE FROM messages");
  }

  /** Sends the outbox to the WEBHOOKS queue in order, and keeps trying until the queue takes it. */
  async alarm(): Promise<void> {
    const batch = this.nextOutboxBatch();
    if (batch.length === 0) return;
    try {
      await this.env.WEBHOOKS.sendBatch(batch.map(({ job }) => ({ body: job, contentType: "json" as const })));
    } catch (error) {
      this.failedEnqueues++;
      const backoff = Math.min(1000 * 2 ** this.failedEnqueues, MAX_ENQUEUE_BACKOFF_MS);
      console.error(`webhook enqueue failed, retrying in ${backoff} ms`, error);
      await this.ctx.storage.setAlarm(Date.now() + backoff);
      return;
    }
    this.failedEnqueues = 0;
    this.sql.exec("DELETE FROM outbox WHERE seq <= ?", batch[batch.length - 1].seq);
    if (this.exists("SELECT 1 FROM outbox LIMIT 1")) await this.ctx.storage.setAlarm(Date.now());
  }

  private queueDeliveries(message: ConversationMessage, fanout: Fanout): number {
    const trigger = messageTrigger(message.role);
    const routes = fanout.webhooks.filter((route) => matches(route, message.role));
    const body = JSON.stringify({ trigger, messages: [message], appUser: fanout.appUser });
    for (const route of routes) {
      const job: DeliveryJob = {
        conversation: this.ctx.id.toString(),
        deliveryId: newId(),
        webhookId: route.id,
        messageId: message._id,
        trigger,
        body,
      };
      this.sql.exec("INSERT INTO outbox (job) VALUES (?)", JSON.stringify(job));
    }
    return routes.length;
  }

  private nextOutboxBatch(): { seq: number; job: DeliveryJob }[] {
    const batch: { seq: number; job: DeliveryJob }[] = [];
    let bytes = 0;
    const rows = this.sql.exec<{ seq: number; job: string }>(
      "SELECT seq, job FROM outbox ORDER BY seq LIMIT ?",
      MAX_BATCH_MESSAGES,
    );
    for (const row of rows) {
      bytes += row.job.length;
      if (batch.length > 0 && bytes > MAX_BATCH_BYTES) break;
      batch.push({ seq: row.seq, job: JSON.parse(row.job) });
    }
    return batch;
  }

  private forward(to: HandOver, messages: NewMessage[], fanout?: Fanout) {
    const survivor = this.env.CONVERSATIONS.get(this.env.CONVERSATIONS.idFromName(to.conversationId));
    const authored = messages.map((m) => (m.authorId === to.fromAuthorId ? { ...m, authorId: to.toAuthorId } : m));
    return survivor.append(authored, fanout);
  }

  private insert({ _id, ...rest }: NewMessage, receivedMs: number): void {
    this.sql.exec(
      "INSERT INTO messages (received_ms, id, body) VALUES (?, ?, ?)",
      receivedMs,
      _id,
      JSON.stringify({ _id, ...rest }),
    );
    this.lastReceivedMs = Math.max(this.lastReceivedMs, receivedMs);
  }

  private exists(query: string, ...bindings: SqlStorageValue[]): boolean {
    return this.sql.exec(query, ...bindings).toArray().length > 0;
  }
}
