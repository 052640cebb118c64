/** The Slack channel's D1 tables (migrations/0011_slack.sql). */

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

export async function threadOfConversation(db: D1Database, integrationId: string, conversationId: string): Promise<SlackThread | null> {
  const row = await db
    .prepare(`SELECT ${THREAD_COLUMNS} FROM slack_threads WHERE integration_id = ? AND conversation_id = ?`)
    .bind(integrationId, conversationId)
    .first<ThreadRow>();
  return row && toThread(row);
}

export async function threadOfTs(db: D1Database, integrationId: string, threadTs: string): Promise<SlackThread | null> {
  const row = await db
    .prepare(`SELECT ${THREAD_COLUMNS} FROM slack_threads WHERE integration_id = ? AND thread_ts = ?`)
    .bind(integrationId, threadTs)
    .first<ThreadRow>();
  return row && toThread(row);
}

/**
 * Records a conversation's thread; false when the integration or the user is gone meanwhile
 * (deleted: nothing more goes to Slack for them) or the conversation already has one.
 */
export async function insertThread(db: D1Database, thread: SlackThread): Promise<boolean> {
  const result = await db
    .prepare(
      `INSERT INTO slack_threads (${THREAD_COLUMNS})
       SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM integrations WHERE id = ?1) AND EXISTS (SELECT 1 FROM app_users WHERE id = ?3)
       ON CONFLICT DO NOTHING`,
    )
    .bind(thread.integrationId, thread.conversationId, thread.appUserId, thread.threadTs)
    .run();
  return result.meta.changes > 0;
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
