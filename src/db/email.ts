import type { FlatObject } from "../lib/schemas";
import { parseObject } from "./json";

/** The email channel's D1 state (migrations/0012_email.sql). */

export interface EmailThread {
  subject: string;
  rootMessageId: string;
  lastMessageId: string;
}

/** A conversation's reply address, as its token names it: its app, while live, with an email integration. */
export interface ReplyTarget {
  appId: string;
  to: string[];
  fromName: string | null;
  tokenKey: string;
}

export interface EmailedDevice {
  platform: string;
  appVersion: string | null;
  info: FlatObject;
}

/** The app user's conversation, if it is not merged away and its app is live with an email integration. */
export async function replyTarget(db: D1Database, appUserId: string): Promise<ReplyTarget | null> {
  const row = await db
    .prepare(
      `SELECT u.app_id, i.public, i.secret FROM app_users u
       JOIN apps a ON a.id = u.app_id AND a.deleted_at IS NULL
       JOIN integrations i ON i.app_id = u.app_id AND i.type = 'email'
       WHERE u.id = ? AND u.merged_into IS NULL`,
    )
    .bind(appUserId)
    .first<{ app_id: string; public: string; secret: string }>();
  if (!row) return null;
  const shown = JSON.parse(row.public) as { to: string[]; fromName: string | null };
  const secret = JSON.parse(row.secret) as { tokenKey: string };
  return { appId: row.app_id, to: shown.to, fromName: shown.fromName, tokenKey: secret.tokenKey };
}

export async function emailThread(db: D1Database, appUserId: string): Promise<EmailThread | null> {
  const row = await db
    .prepare("SELECT subject, root_message_id, last_message_id FROM email_threads WHERE app_user_id = ?")
    .bind(appUserId)
    .first<{ subject: string; root_message_id: string; last_message_id: string }>();
  return row && { subject: row.subject, rootMessageId: row.root_message_id, lastMessageId: row.last_message_id };
}

/** Whether this message was emailed already (a job delivered again). */
export async function wasEmailed(db: D1Database, messageId: string): Promise<boolean> {
  return (await db.prepare("SELECT 1 FROM email_sent WHERE message_id = ?").bind(messageId).first()) !== null;
}

/** The user's devices, as the first email of a conversation shows them. */
export async function emailedDevices(db: D1Database, appId: string, appUserId: string): Promise<EmailedDevice[]> {
  const { results } = await db
    .prepare(
      `SELECT d.platform, d.app_version, d.info FROM devices d
       JOIN device_users u ON u.app_id = d.app_id AND u.device_id = d.id
       WHERE u.app_id = ? AND u.app_user_id = ? ORDER BY d.id LIMIT 20`,
    )
    .bind(appId, appUserId)
    .all<{ platform: string; app_version: string | null; info: string }>();
  return results.map((row) => ({ platform: row.platform, appVersion: row.app_version, info: parseObject(row.info) }));
}

/**
 * What an email sent records: the message as emailed, and the thread (started by the first
 * email, moved on by each) — unless the user was deleted meanwhile.
 */
export function emailSentStatements(
  db: D1Database,
  sent: { messageId: string; appUserId: string; emailMessageId: string; subject: string },
  now: number,
): D1PreparedStatement[] {
  return [
    db
      .prepare(
        `INSERT OR IGNORE INTO email_sent (message_id, app_user_id, email_message_id, sent_at)
         SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM app_users WHERE id = ?2)`,
      )
      .bind(sent.messageId, sent.appUserId, sent.emailMessageId, now),
    db
      .prepare(
        `INSERT INTO email_threads (app_user_id, subject, root_message_id, last_message_id)
         SELECT ?1, ?2, ?3, ?3 WHERE EXISTS (SELECT 1 FROM app_users WHERE id = ?1)
         ON CONFLICT (app_user_id) DO UPDATE SET last_message_id = excluded.last_message_id`,
      )
      .bind(sent.appUserId, sent.subject, sent.emailMessageId),
  ];
}

/** Claims a reply by its Message-ID; false when it was taken before. */
export async function claimReply(db: D1Database, appUserId: string, emailMessageId: string, now: number): Promise<boolean> {
  const result = await db
    .prepare("INSERT OR IGNORE INTO email_received (app_user_id, email_message_id, received_at) VALUES (?, ?, ?)")
    .bind(appUserId, emailMessageId, now)
    .run();
  return result.meta.changes > 0;
}

/** Gives a claim back: the reply could not be stored, and its sender's retry must be taken. */
export async function releaseReply(db: D1Database, appUserId: string, emailMessageId: string): Promise<void> {
  await db.prepare("DELETE FROM email_received WHERE app_user_id = ? AND email_message_id = ?").bind(appUserId, emailMessageId).run();
}

/** An email attempt that failed, or (outcome 'failed', attempts 0 keeping the count) its dead letter. */
export function emailFailureStatement(
  db: D1Database,
  failure: { messageId: string; appId: string; appUserId: string; attempts: number; lastError: string | null; outcome: "retrying" | "failed" },
  now: number,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO email_failures (message_id, app_id, app_user_id, attempts, last_error, outcome, updated_at)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS (SELECT 1 FROM apps WHERE id = ?2)
       ON CONFLICT (message_id) DO UPDATE SET attempts = MAX(attempts, excluded.attempts),
         last_error = COALESCE(excluded.last_error, last_error), outcome = excluded.outcome, updated_at = excluded.updated_at`,
    )
    .bind(failure.messageId, failure.appId, failure.appUserId, failure.attempts, failure.lastError, failure.outcome, now);
}

export function clearEmailFailureStatement(db: D1Database, messageId: string): D1PreparedStatement {
  return db.prepare("DELETE FROM email_failures WHERE message_id = ?").bind(messageId);
}
