import type { PushOutcomeRecord } from "../enums";

/** One push's latest trouble: `deviceId` is "" for the fan-out of a message to its user's devices. */
export interface PushFailure {
  messageId: string;
  deviceId: string;
  appId: string;
  appUserId: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  outcome: PushOutcomeRecord;
}

/**
 * Records an attempt's trouble (or, after one, its success). Attempts can be reported out of
 * order, so the row keeps the highest attempt count, and a sent push is never marked otherwise.
 * A user deleted meanwhile has no row to attach to: the insert is skipped.
 */
export function pushFailureStatement(db: D1Database, failure: PushFailure): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO push_failures
         (message_id, device_id, app_id, app_user_id, attempts, last_status, last_error, outcome, created_at, updated_at)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9 WHERE EXISTS (SELECT 1 FROM app_users WHERE id = ?4)
       ON CONFLICT (message_id, device_id) DO UPDATE SET
         attempts = MAX(attempts, excluded.attempts),
         last_status = COALESCE(excluded.last_status, last_status),
         last_error = COALESCE(excluded.last_error, last_error),
         outcome = CASE WHEN outcome = 'sent' THEN outcome ELSE excluded.outcome END,
         updated_at = excluded.updated_at`,
    )
    .bind(
      failure.messageId,
      failure.deviceId,
      failure.appId,
      failure.appUserId,
      failure.attempts,
      failure.lastStatus,
      failure.lastError,
      failure.outcome,
      Date.now(),
    );
}

/** The dead-letter queue's verdict: failed for good, keeping what the last attempt recorded. */
export function pushGaveUpStatement(db: D1Database, failure: Omit<PushFailure, "lastStatus" | "lastError" | "outcome">) {
  return db
    .prepare(
      `INSERT INTO push_failures
         (message_id, device_id, app_id, app_user_id, attempts, last_status, last_error, outcome, created_at, updated_at)
       SELECT ?1, ?2, ?3, ?4, ?5, NULL, 'gave up after the last retry', 'failed', ?6, ?6
       WHERE EXISTS (SELECT 1 FROM app_users WHERE id = ?4)
       ON CONFLICT (message_id, device_id) DO UPDATE SET
         attempts = MAX(attempts, excluded.attempts),
         outcome = CASE WHEN outcome = 'sent' THEN outcome ELSE 'failed' END,
         updated_at = excluded.updated_at`,
    )
    .bind(failure.messageId, failure.deviceId, failure.appId, failure.appUserId, failure.attempts, Date.now());
}

/** Keeps an app's push failure log to its newest `keep` records, none older than `before` (ms). */
export function prunePushFailuresStatement(db: D1Database, appId: string, keep: number, before: number) {
  return db
    .prepare(
      `DELETE FROM push_failures WHERE app_id = ?1 AND (created_at < ?3 OR rowid IN (
         SELECT rowid FROM push_failures WHERE app_id = ?1 ORDER BY created_at DESC LIMIT -1 OFFSET ?2))`,
    )
    .bind(appId, keep, before);
}
