/** Recently erased messages, so that deliveries about them already in the queue are dropped. */

/** A tombstone lasts far longer than a delivery stays in the queue (its retries take minutes). */
export const TOMBSTONE_MS = 24 * 3600_000;

/** Any number of ids in one statement, and the tombstones that have served their purpose dropped. */
export function tombstoneStatements(db: D1Database, messageIds: string[], now: number): D1PreparedStatement[] {
  return [
    db.prepare("DELETE FROM erased_messages WHERE erased_at < ?").bind(now - TOMBSTONE_MS),
    db
      .prepare("INSERT OR REPLACE INTO erased_messages (message_id, erased_at) SELECT value, ?2 FROM json_each(?1)")
      .bind(JSON.stringify(messageIds), now),
  ];
}

/** Which of these messages were erased: rows of `message_id`. */
export function erasedAmongStatement(db: D1Database, messageIds: string[]): D1PreparedStatement {
  return db
    .prepare("SELECT message_id FROM erased_messages WHERE message_id IN (SELECT value FROM json_each(?))")
    .bind(JSON.stringify([...new Set(messageIds)]));
}
