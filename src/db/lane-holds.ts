/** The held lanes of ordered channels (migrations/0016_delivery_order_slack_claims.sql). */

export interface LaneHold {
  lane: string;
  messageId: string;
  dueAt: number;
}

/**
 * The holds on these lanes of a channel, each lane's in order. Written to walk the channel's
 * holds (few: only lanes with a failing job have any) rather than the lanes asked about, so that
 * the usual case, no hold at all, reads no row.
 */
export const laneHoldsStatement = (db: D1Database, channel: string, lanes: string[]) =>
  db
    .prepare(
      `SELECT lane, message_id, due_at FROM delivery_lane_holds
       WHERE channel = ?1 AND EXISTS (SELECT 1 FROM json_each(?2) WHERE value = lane) ORDER BY lane, position`,
    )
    .bind(channel, JSON.stringify(lanes));

export const toLaneHold = (row: Record<string, unknown>): LaneHold => ({
  lane: String(row.lane),
  messageId: String(row.message_id),
  dueAt: Number(row.due_at),
});

/** Holds a job's place in its lane: at the lane's end when it has none yet, else where it was (its due time updated). */
export const holdStatement = (db: D1Database, channel: string, lane: string, messageId: string, dueAt: number) =>
  db
    .prepare(
      `INSERT INTO delivery_lane_holds (channel, lane, message_id, position, due_at)
       SELECT ?1, ?2, ?3, COALESCE(MAX(position), 0) + 1, ?4 FROM delivery_lane_holds WHERE channel = ?1 AND lane = ?2
       ON CONFLICT (channel, lane, message_id) DO UPDATE SET due_at = excluded.due_at`,
    )
    .bind(channel, lane, messageId, dueAt);

export const releaseStatement = (db: D1Database, channel: string, lane: string, messageId: string) =>
  db.prepare("DELETE FROM delivery_lane_holds WHERE channel = ? AND lane = ? AND message_id = ?").bind(channel, lane, messageId);
