import { config } from "../../config";
import { DurableObject } from "cloudflare:workers";
import { CHANNELS } from "../../channels/registry";
import { TOMBSTONE_MS, tombstoneStatements } from "../../db/erased-messages";
import type { Destinations } from "../../delivery/channel";
import { handedOver } from "../../delivery/destinations";
import { Outbox, OutboxAlarm } from "../../delivery/outbox";
import type { Role } from "../../enums";
import type { ConversationActivity } from "../../presenters/activity";
import { withMessageDefaults, type ConversationMessage, type NewMessage } from "../../model/message";
import { MediaTrash, type Uploaders } from "./media-trash";
import { NewestPage, type RenderedMessage } from "./newest-page";
import { PAGE_SIZE, type MessagePage } from "../page";
import { ReadMarkers } from "./read-markers";
import { forgetSchema, migrate } from "./schema";
import type { ChannelKind } from "../subscription";
import { Subscribers } from "./subscribers";
import type { Triage } from "../../db/conversation-index";
import { TriageKeeper, type TriageChange, type TriageOutcome } from "./triage";

/** A side of the conversation marking it read; `conversationId` is the conversation's `_id`. */
export interface Read {
  role: Role;
  conversationId: string;
}

/** Set once a merge has taken this conversation's messages: later appends go to the survivor. */
export interface HandOver {
  conversationId: string;
  fromAuthorId: string;
  toAuthorId: string;
}

/** What an erased conversation answers an append with (its user was deleted meanwhile). */
export const ERASED = "conversation: erased";

/**
 * How long the alarm waits before draining what the drain right after a write did not send: it
 * is the safety net for an object that died between its write and that drain.
 */
const SAFETY_NET_MS = 30_000;

/** What erasing a message needs of it. */
const ERASABLE = "SELECT id, received_ms, json_extract(body, '$.mediaUrl') AS media_url FROM messages";

interface MessageRow extends Record<string, SqlStorageValue> {
  received_ms: number;
  body: string;
}

const toMessage = (row: MessageRow): ConversationMessage =>
  withMessageDefaults({ ...JSON.parse(row.body), received: row.received_ms / 1000 });

/**
 * Whether a stored body predates `type`, `actions` and `source` (withMessageDefaults), which
 * came in together: only a top-level `source` can be an object in a message's JSON (metadata is
 * flat, actions have no `source`, and a string's quotes are escaped).
 */
const isLegacy = (body: string) => !body.includes('"source":{');

/** A stored message's JSON as toMessage would serialise it: the body with `received` added, parsed only when it lacks the defaults. */
const renderMessage = (row: MessageRow): RenderedMessage => ({
  receivedMs: row.received_ms,
  json: isLegacy(row.body) ? JSON.stringify(toMessage(row)) : `${row.body.slice(0, -1)},"received":${row.received_ms / 1000}}`,
});

/** Messages (oldest first) as a page. */
function pageOf(messages: RenderedMessage[], rest: Pick<MessagePage, "hasOlder" | "hasNewer" | "unreadCount">): MessagePage {
  return {
    messagesJson: `[${messages.map((message) => message.json).join(",")}]`,
    firstReceived: messages.length > 0 ? messages[0].receivedMs / 1000 : null,
    lastReceived: messages.length > 0 ? messages[messages.length - 1].receivedMs / 1000 : null,
    ...rest,
  };
}

/**
 * One app user's conversation. It alone writes its messages, so appends are serialised and
 * `received` can be made unique and strictly increasing without any coordination.
 */
export class Conversation extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** The alarm that drains the outbox (and the media trash). */
  private outboxAlarm!: OutboxAlarm;
  /** Every channel's delivery jobs (src/delivery/). */
  private outbox!: Outbox;
  private reads!: ReadMarkers;
  private triageState!: TriageKeeper;
  private trash!: MediaTrash;
  private subscribers!: Subscribers;
  private newestPage!: NewestPage;
  /** The drain in progress, and whether jobs were written since it read its batch. */
  private draining: Promise<void> | null = null;
  private drainAgain = false;
  private lastReceivedMs = 0;
  private handedOver: HandOver | null = null;
  /** Set once `erase` has run: the user is gone, and nothing is stored here again. */
  private erased = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    // All synchronous (SQL and the synchronous KV API): a cold start, which every post to an
    // object evicted since its last message pays, runs no storage round trip of its own.
    this.open();
    this.erased = ctx.storage.kv.get<boolean>("erased") ?? false;
    const last = this.sql.exec<{ last: number | null }>("SELECT MAX(received_ms) AS last FROM messages").one();
    // Erased messages leave their high-water mark: later ones still come after them.
    const mark = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'lastReceived'").toArray();
    this.lastReceivedMs = Math.max(last.last ?? 0, mark.length > 0 ? Number(mark[0].value) : 0);
    this.reads.init(this.lastReceivedMs > 0);
    const handOver = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'handOver'").toArray();
    this.handedOver = handOver.length > 0 ? JSON.parse(handOver[0].value) : null;
    // An outbox (or media trash) whose alarm the runtime gave up on is picked up again when the object wakes.
    if (this.outbox.pending || this.trash.pending) {
      ctx.blockConcurrencyWhile(async () => {
        const alarmAt = await ctx.storage.getAlarm();
        this.outboxAlarm.know(alarmAt);
        if (alarmAt === null) await this.outbox.wake();
      });
    }
  }

  /** A storage transaction; the read markers and triage state kept in memory are forgotten when it rolls back. */
  private transaction<T>(write: () => T): T {
    try {
      return this.ctx.storage.transactionSync(write);
    } catch (error) {
      this.reads.forget();
      this.triageState.forget();
      throw error;
    }
  }

  /** The tables (created or migrated only when older than the code's, schema.ts) and their keepers; again after `erase` emptied the storage. */
  private open(): void {
    migrate(this.ctx.storage);
    this.outboxAlarm = new OutboxAlarm(this.ctx.storage);
    this.outbox = new Outbox(this.ctx, this.outboxAlarm, CHANNELS, this.env);
    this.reads = new ReadMarkers(this.sql);
    this.triageState = new TriageKeeper(this.sql);
    this.trash = new MediaTrash(this.sql, this.env.MEDIA);
    this.subscribers = new Subscribers(this.sql, this.env);
    this.newestPage = new NewestPage();
  }

  /**
   * Appends messages in order and returns them with the newest page of the conversation.
   * Each message's delivery jobs, for every channel with a destination, are written in the same
   * transaction and sent on right after it; the alarm that would send them should the object die
   * first is set before the call returns: a stored message always gets its deliveries.
   */
  async append(
    messages: NewMessage[],
    destinations?: Destinations,
  ): Promise<{ appended: ConversationMessage[]; page: MessagePage }> {
    if (this.erased) throw new Error(ERASED);
    if (this.handedOver) return this.forward(this.handedOver, messages, destinations);
    let queued = 0;
    const rendered: RenderedMessage[] = [];
    const appended = this.transaction(() => {
      const stored = messages.map((message) => {
        // Two messages in the same millisecond still get distinct, increasing timestamps.
        const receivedMs = Math.max(Date.now(), this.lastReceivedMs + 1);
        rendered.push(renderMessage(this.insert(message, receivedMs)));
        const stored = { ...message, received: receivedMs / 1000 };
        const triage = message.role === "appUser" ? this.triageState.appUserWrote() : this.triageState.current;
        queued += this.outbox.add({ kind: "message", message: stored, triage }, destinations);
        return stored;
      });
      this.reads.addUnread(stored.filter((message) => message.role === "appMaker").length);
      return stored;
    });
    this.newestPage.appended(rendered);
    if (queued > 0) await this.sendOn();
    // Off the response's path: a stored message reaches its subscribers in received order.
    this.ctx.waitUntil(this.subscribers.publish("messages", appended));
    return { appended, page: this.newest() };
  }

  /** A realtime client subscribes to one of this conversation's channels (or its user's). */
  async subscribe(client: string, channel: string, kind: ChannelKind): Promise<boolean> {
    if (this.erased) return true;
    return this.subscribers.add(client, channel, kind, config(this.env).realtimeMaxSubscribers);
  }

  /** A realtime client drops one subscription here, or all of them. */
  async unsubscribe(client: string, channel?: string): Promise<void> {
    this.subscribers.remove(client, channel);
  }

  /** The newest `limit` messages, oldest first: nothing is newer. */
  newest(limit = PAGE_SIZE): MessagePage {
    if (limit !== PAGE_SIZE) return this.olderThan(Number.MAX_SAFE_INTEGER, limit, false);
    const { messages, hasOlder } = this.newestPage.get(
      () => this.read("received_ms < ? ORDER BY received_ms DESC", Number.MAX_SAFE_INTEGER, PAGE_SIZE + 1),
    );
    return pageOf(messages, { hasOlder, hasNewer: false, unreadCount: this.reads.unreadCount });
  }

  /** The newest `limit` messages received strictly before `beforeMs`, oldest first. */
  before(beforeMs: number, limit = PAGE_SIZE): MessagePage {
    return this.olderThan(beforeMs, limit, this.exists("SELECT 1 FROM messages WHERE received_ms >= ? LIMIT 1", beforeMs));
  }

  private olderThan(beforeMs: number, limit: number, hasNewer: boolean): MessagePage {
    const read = this.read("received_ms < ? ORDER BY received_ms DESC", beforeMs, limit + 1);
    return pageOf(read.slice(0, limit).reverse(), { hasOlder: read.length > limit, hasNewer, unreadCount: this.reads.unreadCount });
  }

  /** The oldest `limit` messages received strictly after `afterMs`, oldest first. */
  after(afterMs: number, limit = PAGE_SIZE): MessagePage {
    const read = this.read("received_ms > ? ORDER BY received_ms ASC", afterMs, limit + 1);
    const hasOlder = this.exists("SELECT 1 FROM messages WHERE received_ms <= ? LIMIT 1", afterMs);
    return pageOf(read.slice(0, limit), { hasOlder, hasNewer: read.length > limit, unreadCount: this.reads.unreadCount });
  }

  /** Up to `count` messages in the given order from a bound, rendered. */
  private read(boundAndOrder: string, bound: number, count: number): RenderedMessage[] {
    return this.sql
      .exec<MessageRow>(`SELECT received_ms, body FROM messages WHERE ${boundAndOrder} LIMIT ?`, bound, count)
      .toArray()
      .map(renderMessage);
  }

  /**
   * Marks the conversation read by one side, up to its newest message, with the
   * `conversation:read` deliveries in the same transaction. A conversation without messages has
   * nothing to read: nothing is stored or sent.
   */
  async markRead(read: Read, destinations?: Destinations): Promise<void> {
    if (this.handedOver) {
      return this.survivor(this.handedOver).markRead({ ...read, conversationId: this.handedOver.conversationId }, destinations);
    }
    const [newest] = this.sql.exec<{ id: string }>("SELECT id FROM messages ORDER BY received_ms DESC LIMIT 1").toArray();
    if (!newest) return;
    const queued = this.transaction(() => {
      this.reads.markRead(read.role, this.lastReceivedMs);
      return this.outbox.add({ kind: "read", read, newestMessageId: newest.id }, destinations);
    });
    if (queued > 0) await this.sendOn();
  }

  /**
   * The business closes, reopens, assigns or unassigns the conversation: the new state and its
   * deliveries (the `conversation:status` / `conversation:assignee` webhooks, the index's job) are
   * written in one transaction, so a change once answered always reaches both. `seed` is the
   * state the index shows, taken as the current one until the business first changes it here.
   */
  async triage(change: TriageChange, seed: Triage, conversationId: string, destinations?: Destinations): Promise<TriageOutcome> {
    if (this.erased) throw new Error(ERASED);
    if (this.handedOver) {
      const to = this.handedOver;
      return this.survivor(to).triage(change, seed, to.conversationId, handedOver(CHANNELS, destinations, to));
    }
    const [newest] = this.sql.exec<{ id: string }>("SELECT id FROM messages ORDER BY received_ms DESC LIMIT 1").toArray();
    let queued = 0;
    const outcome = this.transaction(() => {
      const outcome = this.triageState.change(change, seed);
      if (outcome.after !== outcome.before) {
        const event = { kind: "triage" as const, conversationId, outcome, assignee: change.assignee ?? null, newestMessageId: newest?.id ?? null };
        queued = this.outbox.add(event, destinations);
      }
      return outcome;
    });
    if (queued > 0) await this.sendOn();
    return outcome;
  }

  /**
   * Fires the `postback` webhooks for a postback button of one of this conversation's appMaker
   * messages, its deliveries written in one transaction; false when there is no such button.
   */
  async postback(actionId: string, destinations?: Destinations): Promise<boolean> {
    if (this.handedOver) return this.survivor(this.handedOver).postback(actionId, destinations);
    const [row] = this.sql
      .exec<MessageRow>(
        "SELECT m.received_ms, m.body FROM postbacks p JOIN messages m ON m.received_ms = p.received_ms WHERE p.action_id = ?",
        actionId,
      )
      .toArray();
    const message = row && toMessage(row);
    const action = message?.actions.find((candidate) => candidate._id === actionId);
    if (!message || !action) return false;
    const queued = this.transaction(() => this.outbox.add({ kind: "postback", message, action }, destinations));
    if (queued > 0) await this.sendOn();
    return true;
  }

  /**
   * The business is typing, or stopped: shown to whoever watches this conversation live (the web
   * messenger's `/v1/conversations/<_id>/activity` channel). Nothing is stored or sent to webhooks.
   */
  async activity(payload: ConversationActivity): Promise<void> {
    if (this.handedOver) return this.survivor(this.handedOver).activity(payload);
    await this.subscribers.publish("activity", [payload]);
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
    this.newestPage.forget();
    this.transaction(() => {
      for (const { received, ...message } of messages) {
        if (this.exists("SELECT 1 FROM messages WHERE id = ?", message._id)) continue;
        let receivedMs = Math.round(received * 1000);
        while (this.exists("SELECT 1 FROM messages WHERE received_ms = ?", receivedMs)) receivedMs++;
        const authorId = message.authorId === fromAuthorId ? toAuthorId : message.authorId;
        this.insert({ ...message, authorId }, receivedMs);
      }
      this.reads.recount();
    });
  }

  /** Forgets every message, once a merge has moved them elsewhere (see handOver). */
  async clear(): Promise<void> {
    this.newestPage.forget();
    this.transaction(() => {
      this.sql.exec("DELETE FROM messages");
      this.sql.exec("DELETE FROM postbacks");
      this.reads.clear();
    });
  }

  // ---- erasure (src/erasure/) ------------------------------------------------------------

  /**
   * Erases every message, with their postback buttons, read markers, images (those `owners`
   * uploaded to `appId`) and the outbox jobs about them, in one transaction; `received` keeps
   * increasing after them. Returns the ids of those recent enough to have deliveries still in the queue.
   */
  async eraseMessages(appId: string, owners: Uploaders): Promise<string[]> {
    const recent = this.transaction(() => {
      const erased = this.eraseRows(ERASABLE, appId, owners) ?? [];
      this.sql.exec("DELETE FROM messages");
      this.sql.exec("DELETE FROM postbacks");
      this.reads.clear();
      return erased;
    });
    await this.purgeTrash();
    return recent;
  }

  /** Erases one message as `eraseMessages` does; null when this conversation has no such message. */
  async eraseMessage(appId: string, owners: Uploaders, messageId: string): Promise<string[] | null> {
    const recent = this.transaction(() => {
      const erased = this.eraseRows(`${ERASABLE} WHERE id = ?`, appId, owners, messageId);
      if (erased === null) return null;
      this.sql.exec("DELETE FROM postbacks WHERE received_ms IN (SELECT received_ms FROM messages WHERE id = ?)", messageId);
      this.sql.exec("DELETE FROM messages WHERE id = ?", messageId);
      this.reads.recount();
      return erased;
    });
    if (recent) await this.purgeTrash();
    return recent;
  }

  /** A profile was erased: its messages no longer show the name, email and avatar they were signed with. */
  async redactAuthors(authorIds: string[]): Promise<void> {
    this.newestPage.forget();
    this.sql.exec(
      `UPDATE messages SET body = json_remove(body, '$.name', '$.email', '$.avatarUrl')
       WHERE json_extract(body, '$.role') = 'appUser' AND json_extract(body, '$.authorId') IN (SELECT value FROM json_each(?))`,
      JSON.stringify(authorIds),
    );
  }

  /**
   * The user (and `owners`, the users merged into it) is deleted. Before the first await, in one
   * transaction: the mark that refuses every later append, and every message gone with its
   * postbacks, read markers and outbox jobs, its images trashed and its id kept for a tombstone.
   * An append is either wholly before that (and erased with the rest) or refused. Then, awaiting:
   * the tombstones in D1 (for jobs already handed to the queues), the images deleted from R2, and
   * the storage emptied but for the mark; the realtime clients lose their subscriptions here, and
   * those left with none are disconnected. Should any step fail, calling it again finishes the
   * job (the object's alarm keeps retrying the images meanwhile).
   */
  async erase(appId: string, owners: Uploaders): Promise<void> {
    if (!this.erased) this.markErased(appId, owners);
    // A drain that read jobs before the mark sends them before the tombstones that drop them are written.
    await this.draining;
    const tombstones = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'tombstones'").toArray();
    if (tombstones.length > 0) await this.env.DB.batch(tombstoneStatements(this.env.DB, JSON.parse(tombstones[0].value), Date.now()));
    await this.purgeTrash();
    const subscribed = this.subscribers.byClient();
    this.transaction(() => this.emptyStorage());
    this.open();
    await Promise.all([...subscribed].map(([client, channels]) => this.subscribers.revoke(client, channels)));
  }

  /** The synchronous first half of `erase`, durable once it returns. */
  private markErased(appId: string, owners: Uploaders): void {
    this.transaction(() => {
      const recent = this.eraseRows(ERASABLE, appId, owners) ?? [];
      this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('tombstones', ?)", JSON.stringify(recent));
      this.sql.exec("DELETE FROM messages");
      this.sql.exec("DELETE FROM postbacks");
      this.outbox.dropAll();
      this.reads.clear();
      this.ctx.storage.kv.put("erased", true);
    });
    this.erased = true;
    this.handedOver = null;
  }

  /**
   * Drops every table, in one transaction with nothing awaited: unlike `deleteAll`, no crash can
   * leave the storage empty without the erase mark, which the synchronous KV API keeps apart.
   */
  private emptyStorage(): void {
    const tables = this.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 4) <> '_cf_' AND substr(name, 1, 7) <> 'sqlite_'")
      .toArray();
    for (const { name } of tables) this.sql.exec(`DROP TABLE "${name}"`);
    forgetSchema(this.ctx.storage);
  }

  /**
   * Inside an erasing transaction: trashes the images of the rows the query selects, drops the
   * outbox jobs about them and keeps `received`'s high-water mark. Null when it selects none.
   */
  private eraseRows(query: string, appId: string, owners: Uploaders, ...bindings: SqlStorageValue[]): string[] | null {
    this.newestPage.forget();
    const rows = this.sql
      .exec<{ id: string; received_ms: number; media_url: string | null }>(query, ...bindings)
      .toArray();
    if (rows.length === 0) return null;
    this.trash.add(appId, owners, rows.map((row) => row.media_url ?? undefined));
    this.outbox.dropFor(rows.map((row) => row.id));
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('lastReceived', ?)", String(this.lastReceivedMs));
    const since = Date.now() - TOMBSTONE_MS;
    return rows.filter((row) => row.received_ms >= since).map((row) => row.id);
  }

  /** Deletes the trashed images now; should R2 fail, the alarm keeps trying. */
  private async purgeTrash(): Promise<void> {
    try {
      await this.trash.purge();
    } catch (error) {
      await this.outboxAlarm.schedule(Date.now() + this.trash.retryInMs);
      throw error;
    }
  }

  /** Sends the outbox to the channels' queues in order, and deletes trashed images, until all are done. */
  async alarm(): Promise<void> {
    this.outboxAlarm.started();
    // Retried by the object itself, with a backoff: the runtime gives up on a failing alarm,
    // and an erased user's object may never wake again.
    await this.purgeTrash().catch((error: unknown) => console.error("media trash: R2 failed, retrying", error));
    await this.drainOutboxes();
  }

  /**
   * Jobs were just written: the safety-net alarm is set (unless one already is) before the
   * caller answers, and the outbox is drained now, beside the answer, rather than by an alarm
   * invocation per write.
   */
  private async sendOn(): Promise<void> {
    await this.outboxAlarm.schedule(Date.now() + SAFETY_NET_MS);
    this.ctx.waitUntil(this.drainOutboxes());
  }

  /**
   * Drains the outbox, one drain at a time: jobs written while a drain runs are left to it (it
   * goes round again) rather than read and sent a second time by another. What a drain could not
   * send stays for the alarm, which the outbox sets.
   */
  private drainOutboxes(): Promise<void> {
    if (this.draining) {
      this.drainAgain = true;
      return this.draining;
    }
    this.draining = (async () => {
      try {
        do {
          this.drainAgain = false;
          await this.outbox.drain();
        } while (this.drainAgain);
      } finally {
        this.draining = null;
      }
    })();
    return this.draining;
  }

  private survivor(to: HandOver) {
    return this.env.CONVERSATIONS.get(this.env.CONVERSATIONS.idFromName(to.conversationId));
  }

  private forward(to: HandOver, messages: NewMessage[], destinations?: Destinations) {
    const authored = messages.map((m) => (m.authorId === to.fromAuthorId ? { ...m, authorId: to.toAuthorId } : m));
    return this.survivor(to).append(authored, handedOver(CHANNELS, destinations, to));
  }

  /** Stores a message; returns its row. */
  private insert({ _id, ...rest }: NewMessage, receivedMs: number): MessageRow {
    const body = JSON.stringify({ _id, ...rest });
    this.sql.exec("INSERT INTO messages (received_ms, id, body) VALUES (?, ?, ?)", receivedMs, _id, body);
    if (rest.role === "appMaker") {
      for (const action of rest.actions ?? []) {
        if (action.type !== "postback") continue;
        this.sql.exec("INSERT OR REPLACE INTO postbacks (action_id, received_ms) VALUES (?, ?)", action._id, receivedMs);
      }
    }
    this.lastReceivedMs = Math.max(this.lastReceivedMs, receivedMs);
    return { received_ms: receivedMs, body };
  }

  private exists(query: string, ...bindings: SqlStorageValue[]): boolean {
    return this.sql.exec(query, ...bindings).toArray().length > 0;
  }
}
