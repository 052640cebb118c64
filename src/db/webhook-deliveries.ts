import type { DeliveryOutcome, EventTrigger } from "../enums";

export interface DeliveryAttempt {
  id: string;
  webhookId: string;
  messageId: string;
  trigger: EventTrigger;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  outcome: DeliveryOutcome;
}

export interface Delivery extends DeliveryAttempt {
  createdAt: number;
  updatedAt: number;
}

interface DeliveryRow {
  id: string;
  webhook_id: string;
  message_id: string;
  trigger: EventTrigger;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  outcome: DeliveryOutcome;
  created_at: number;
  updated_at: number;
}

const toDelivery = (row: DeliveryRow): Delivery => ({
  id: row.id,
  webhookId: row.webhook_id,
  messageId: row.message_id,
  trigger: row.trigger,
  attempts: row.attempts,
  lastStatus: row.last_status,
  lastError: row.last_error,
  outcome: row.outcome,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/**
 * Records an attempt. Attempts can be reported out of order (a retry racing a slow record),
 * so the row keeps the highest attempt count, and a delivered outcome is never undone.
 * A webhook deleted meanwhile has no row to attach to: the insert is skipped.
 */
export function attemptStatement(db: D1Database, attempt: DeliveryAttempt): D1PreparedStatement {
  const now = Date.now();
  return db
    .prepare(
      `INSERT INTO webhook_deliveries
         (id, webhook_id, message_id, trigger, attempts, last_status, last_error, outcome, created_at, updated_at)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9 WHERE EXISTS (SELECT 1 FROM webhooks WHERE id = ?2)
       ON CONFLICT (id) DO UPDATE SET
         attempts = MAX(attempts, excluded.attempts),
         last_status = excluded.last_status,
         last_error = excluded.last_error,
         outcome = CASE WHEN outcome = 'delivered' THEN outcome ELSE excluded.outcome END,
         updated_at = excluded.updated_at`,
    )
    .bind(
      attempt.id,
      attempt.webhookId,
      attempt.messageId,
      attempt.trigger,
      attempt.attempts,
      attempt.lastStatus,
      attempt.lastError,
      attempt.outcome,
      now,
    );
}

/** Which of these deliveries a target already accepted (a queue message can arrive twice). */
export function deliveredAmongStatement(db: D1Database, deliveryIds: string[]): D1PreparedStatement {
  return db
    .prepare("SELECT id FROM webhook_deliveries WHERE outcome = 'delivered' AND id IN (SELECT value FROM json_each(?))")
    .bind(JSON.stringify([...new Set(deliveryIds)]));
}

export async function listDeliveries(db: D1Database, webhookId: string, limit: number): Promise<Delivery[]> {
  const { results } = await db
    .prepare(
      `SELECT id, webhook_id, message_id, trigger, attempts, last_status, last_error, outcome, created_at, updated_at
       FROM webhook_deliveries WHERE webhook_id = ? ORDER BY created_at DESC, id LIMIT ?`,
    )
    .bind(webhookId, limit)
    .all<DeliveryRow>();
  return results.map(toDelivery);
}

/** Marks a delivery failed for good, keeping what its last attempt recorded. */
export function gaveUpStatement(db: D1Database, job: Pick<DeliveryAttempt, "id" | "webhookId" | "messageId" | "trigger">) {
  const now = Date.now();
  return db
    .prepare(
      `INSERT INTO webhook_deliveries
         (id, webhook_id, message_id, trigger, attempts, last_status, last_error, outcome, created_at, updated_at)
       SELECT ?1, ?2, ?3, ?4, 0, NULL, 'gave up after the last retry', 'failed', ?5, ?5
       WHERE EXISTS (SELECT 1 FROM webhooks WHERE id = ?2)
       ON CONFLICT (id) DO UPDATE SET
         outcome = CASE WHEN outcome = 'delivered' THEN outcome ELSE 'failed' END,
         updated_at = excluded.updated_at`,
    )
    .bind(job.id, job.webhookId, job.messageId, job.trigger, now);
}

/**
 * Prunes a webhook's delivery log to its newest `keep` records, none older than `before` (ms):
 * run after recording attempts, so the log stays bounded without a scheduled job.
 */
export function pruneDeliveriesStatement(db: D1Database, webhookId: string, keep: number, before: number) {
  return db
    .prepare(
      `DELETE FROM webhook_deliveries WHERE webhook_id = ?1 AND (created_at < ?3 OR id IN (
         SELECT id FROM webhook_deliveries WHERE webhook_id = ?1 ORDER BY created_at DESC, id LIMIT -1 OFFSET ?2))`,
    )
    .bind(webhookId, keep, before);
}
