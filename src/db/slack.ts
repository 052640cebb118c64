/** The Slack channel's D1 tables (migrations/0011_slack.sql, 0016_delivery_order_slack_claims.sql). */

export interface SlackThread {
  integrationId: string;
  conversationId: string;
  appUserId: string;
  threadTs: string;
}

interface ThreadRow {
  integration_id: string;
  conversation_id: string;
  app_user_id: string;
  thread_ts: string;
}

const toThread = (row: ThreadRow): SlackThread => ({
  integrationId: row.integration_id,
  conversationId: row.conversation_id,
  appUserId: row.app_user_id,
  threadTs: row.thread_ts,
});

const THREAD_COLUMNS = "integration_id, conversation_id, app_user_id, thread_ts";

/** A conversation's thread: open, or being opened by a job that claimed it at `claimedAt` (ms). */
export type ThreadState = { open: SlackThread } | { claimedAt: number };

export async function threadOfConversation(db: D1Database, integrationId: string, conversationId: string): Promise<ThreadState | null> {
  const row = await db
    .prepare(`SELECT ${THREAD_COLUMNS}, claimed_at FROM slack_threads WHERE integration_id = ? AND conversation_id = ?`)
    .bind(integrationId, conversationId)
    .first<ThreadRow & { claimed_at: number | null }>();
  if (!row) return null;
  return row.claimed_at === null ? { open: toThread(row) } : { claimedAt: row.claimed_at };
}

export async function threadOfTs(db: D1Database, integrationId: string, threadTs: string): Promise<SlackThread | null> {
  const row = await db
    .prepare(`SELECT ${THREAD_COLUMNS} FROM slack_threads WHERE integration_id = ? AND thread_ts = ? AND claimed_at IS NULL`)
    .bind(integrationId, threadTs)
    .first<ThreadRow>();
  return row && toThread(row);
}

/**
 * Claims the opening of a conversation's thread for `claim` (the placeholder its row holds in
 * `thread_ts` until the parent's ts replaces it): a new row, or a claim made before `staleBefore`
 * taken over. False when the thread is open, another claim is fresh, or the integration or the
 * user is gone (deleted: nothing more goes to Slack for them).
 */
export async function claimThread(db: D1Database, thread: SlackThread, now: number, staleBefore: number): Promise<boolean> {
  const result = await db
    .prepare(
      `INSERT INTO slack_threads (${THREAD_COLUMNS}, claimed_at)
       SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM integrations WHERE id = ?1) AND EXISTS (SELECT 1 FROM app_users WHERE id = ?3)
       ON CONFLICT (integration_id, conversation_id) DO UPDATE SET thread_ts = excluded.thread_ts, claimed_at = excluded.claimed_at
       WHERE slack_threads.claimed_at < ?6`,
    )
    .bind(thread.integrationId, thread.conversationId, thread.appUserId, thread.threadTs, now, staleBefore)
    .run();
  return result.meta.changes > 0;
}

/** Opens a claimed thread with its parent's ts; false when the claim is no longer this one (taken over, or the row gone). */
export async function openThread(db: D1Database, thread: SlackThread, claim: string): Promise<boolean> {
  const result = await db
    .prepare("UPDATE slack_threads SET thread_ts = ?, claimed_at = NULL WHERE integration_id = ? AND conversation_id = ? AND thread_ts = ?")
    .bind(thread.threadTs, thread.integrationId, thread.conversationId, claim)
    .run();
  return result.meta.changes > 0;
}

/** Gives up a claim whose parent Slack did not take: the next job opens the thread at once. */
export async function releaseThreadClaim(db: D1Database, thread: SlackThread): Promise<void> {
  await db
    .prepare("DELETE FROM slack_threads WHERE integration_id = ? AND conversation_id = ? AND thread_ts = ? AND claimed_at IS NOT NULL")
    .bind(thread.integrationId, thread.conversationId, thread.threadTs)
    .run();
}

/** The Slack message a Parley message became in this integration's thread, if it was posted. */
export async function postedTs(db: D1Database, integrationId: string, messageId: string): Promise<string | null> {
  const row = await db
    .prepare("SELECT ts FROM slack_posts WHERE integration_id = ? AND message_id = ?")
    .bind(integrationId, messageId)
    .first<{ ts: string }>();
  return row?.ts ?? null;
}

export async function recordPost(db: D1Database, thread: SlackThread, messageId: string, ts: string): Promise<void> {
  await db
    .prepare("INSERT INTO slack_posts (integration_id, message_id, conversation_id, ts) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")
    .bind(thread.integrationId, messageId, thread.conversationId, ts)
    .run();
}

/** Whether an Events API delivery was taken before (Slack retries with the same event_id). */
export async function eventTaken(db: D1Database, integrationId: string, eventId: string): Promise<boolean> {
  const row = await db.prepare("SELECT 1 FROM slack_events WHERE integration_id = ? AND event_id = ?").bind(integrationId, eventId).first();
  return row !== null;
}

/** Records a delivery as taken, once it is queued (nothing when the integration is gone). */
export async function recordEvent(db: D1Database, integrationId: string, eventId: string, now = Date.now()): Promise<void> {
  await db
    .prepare(
      `INSERT INTO slack_events (integration_id, event_id, created_at) SELECT ?1, ?2, ?3
       WHERE EXISTS (SELECT 1 FROM integrations WHERE id = ?1) ON CONFLICT DO NOTHING`,
    )
    .bind(integrationId, eventId, now)
    .run();
}

/** Slack retries an event for at most about an hour: a day's record covers every retry. */
export const pruneEventsStatement = (db: D1Database, before: number) =>
  db.prepare("DELETE FROM slack_events WHERE created_at < ?").bind(before);

export const slackFailureStatement = (db: D1Database, integrationId: string, messageId: string, reason: string) =>
  db
    .prepare(
      `INSERT INTO slack_failures (integration_id, message_id, reason, created_at) SELECT ?1, ?2, ?3, ?4
       WHERE EXISTS (SELECT 1 FROM integrations WHERE id = ?1)
       ON CONFLICT DO UPDATE SET reason = excluded.reason, created_at = excluded.created_at`,
    )
    .bind(integrationId, messageId, reason, Date.now());
