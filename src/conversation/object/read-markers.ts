import type { Role } from "../../enums";

/** How far each side has read (a message's `received` in ms), and how many appMaker messages the app user has not. */
interface Reads {
  appUser: number;
  appMaker: number;
  unread: number;
}

const NONE: Reads = { appUser: 0, appMaker: 0, unread: 0 };

/**
 * The conversation's read markers, one row of its `meta` table. The app user's unread count is
 * kept as a counter, written with each appMaker message, so that every page read costs one row
 * whatever the conversation's length. Memory keeps the row as last read or written, so that an
 * appMaker post and the page it answers with read nothing; a transaction that wrote the row and
 * then failed must call `forget`, as its write was rolled back.
 * No row means no appMaker message since the object last woke (`init` writes one for a
 * conversation that has messages).
 */
export class ReadMarkers {
  /** The row as storage last returned it; undefined when not known. */
  private known: Reads | null | undefined;

  constructor(private readonly sql: SqlStorage) {}

  /** When the object wakes: a conversation from before read markers has read nothing yet. */
  init(hasMessages: boolean): void {
    if (hasMessages && !this.row()) this.save({ ...NONE, unread: this.countUnreadAfter(0) });
  }

  get unreadCount(): number {
    return (this.row() ?? NONE).unread;
  }

  /** Call in the transaction that appended `count` appMaker messages. */
  addUnread(count: number): void {
    if (count === 0) return;
    const reads = this.row() ?? NONE;
    this.save({ ...reads, unread: reads.unread + count });
  }

  /** One side has read everything up to the message received at `upToMs`. */
  markRead(role: Role, upToMs: number): void {
    const reads = this.row() ?? NONE;
    this.save({ ...reads, [role]: upToMs, ...(role === "appUser" && { unread: 0 }) });
  }

  /** Counts again, after messages were taken in at their own times (a merge). */
  recount(): void {
    const reads = this.row() ?? NONE;
    this.save({ ...reads, unread: this.countUnreadAfter(reads.appUser) });
  }

  clear(): void {
    this.sql.exec("DELETE FROM meta WHERE key = 'reads'");
    this.known = null;
  }

  /** After a transaction that may have written the row was rolled back. */
  forget(): void {
    this.known = undefined;
  }

  private countUnreadAfter(ms: number): number {
    return this.sql
      .exec<{ n: number }>(
        "SELECT COUNT(*) AS n FROM messages WHERE received_ms > ? AND json_extract(body, '$.role') = 'appMaker'",
        ms,
      )
      .one().n;
  }

  private row(): Reads | null {
    if (this.known !== undefined) return this.known;
    const rows = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'reads'").toArray();
    this.known = rows.length > 0 ? (JSON.parse(rows[0].value) as Reads) : null;
    return this.known;
  }

  private save(reads: Reads): void {
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('reads', ?)", JSON.stringify(reads));
    this.known = reads;
  }
}
