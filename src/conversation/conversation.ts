import { DurableObject } from "cloudflare:workers";
import { PAGE_SIZE, type Message, type MessagePage, type NewMessage } from "./message";

interface MessageRow extends Record<string, SqlStorageValue> {
  received_ms: number;
  body: string;
}

const toMessage = (row: MessageRow): Message => ({ ...JSON.parse(row.body), received: row.received_ms / 1000 });

/**
 * One app user's conversation. It alone writes its messages, so appends are serialised and
 * `received` can be made unique and strictly increasing without any coordination.
 */
export class Conversation extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private lastReceivedMs = 0;

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
      const last = this.sql.exec<{ last: number | null }>("SELECT MAX(received_ms) AS last FROM messages").one();
      this.lastReceivedMs = last.last ?? 0;
    });
  }

  /** Appends messages in order and returns them with the newest page of the conversation. */
  async append(messages: NewMessage[]): Promise<{ appended: Message[]; page: MessagePage }> {
    const appended = this.ctx.storage.transactionSync(() =>
      messages.map((message) => {
        // Two messages in the same millisecond still get distinct, increasing timestamps.
        const receivedMs = Math.max(Date.now(), this.lastReceivedMs + 1);
        this.insert(message, receivedMs);
        return { ...message, received: receivedMs / 1000 };
      }),
    );
    return { appended, page: this.newest() };
  }

  newest(limit = PAGE_SIZE): MessagePage {
    const rows = this.sql
      .exec<MessageRow>("SELECT received_ms, body FROM messages ORDER BY received_ms DESC LIMIT ?", limit + 1)
      .toArray();
    return { messages: rows.slice(0, limit).reverse().map(toMessage), hasOlder: rows.length > limit, hasNewer: false };
  }

  /** The newest `limit` messages received strictly before `beforeMs`, oldest first. */
  before(beforeMs: number, limit = PAGE_SIZE): MessagePage {
    const rows = this.sql
      .exec<MessageRow>(
        "SELECT received_ms, body FROM messages WHERE received_ms < ? ORDER BY received_ms DESC LIMIT ?",
        beforeMs,
        limit + 1,
      )
      .toArray();
    const hasNewer = this.exists("SELECT 1 FROM messages WHERE received_ms >= ? LIMIT 1", beforeMs);
    return { messages: rows.slice(0, limit).reverse().map(toMessage), hasOlder: rows.length > limit, hasNewer };
  }

  /** The oldest `limit` messages received strictly after `afterMs`, oldest first. */
  after(afterMs: number, limit = PAGE_SIZE): MessagePage {
    const rows = this.sql
      .exec<MessageRow>(
        "SELECT received_ms, body FROM messages WHERE received_ms > ? ORDER BY received_ms ASC LIMIT ?",
        afterMs,
        limit + 1,
      )
      .toArray();
    const hasOlder = this.exists("SELECT 1 FROM messages WHERE received_ms <= ? LIMIT 1", afterMs);
    return { messages: rows.slice(0, limit).map(toMessage), hasOlder, hasNewer: rows.length > limit };
  }

  /** Every message, oldest first: what a merge moves into the surviving conversation. */
  all(): Message[] {
    return this.sql.exec<MessageRow>("SELECT received_ms, body FROM messages ORDER BY received_ms").toArray().map(toMessage);
  }

  /**
   * Takes in another conversation's messages at their own `received` times (nudged by a
   * millisecond where one is taken), authored by `authorId` where they were the merged user's.
   * Idempotent: a message already here is skipped, so a merge interrupted halfway can run again.
   */
  async absorb(messages: Message[], fromAuthorId: string, toAuthorId: string): Promise<void> {
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

  /** Forgets every message, once a merge has moved them elsewhere. */
  async clear(): Promise<void> {
    this.sql.exec("DELETE FROM messages");
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
