import type { Trigger } from "../enums";
import { whileAppExists } from "./constraints";

export interface Webhook {
  id: string;
  appId: string;
  target: string;
  triggers: Trigger[];
  secret: string;
  /** The key of X-Parley-Signature: shown only when created or rotated, never sent. */
  signingSecret: string;
  createdAt: number;
}

interface WebhookRow {
  id: string;
  app_id: string;
  target: string;
  triggers: string;
  secret: string;
  signing_secret: string;
  created_at: number;
}

const toWebhook = (row: WebhookRow): Webhook => ({
  id: row.id,
  appId: row.app_id,
  target: row.target,
  triggers: JSON.parse(row.triggers),
  secret: row.secret,
  signingSecret: row.signing_secret,
  createdAt: row.created_at,
});

const COLUMNS = "id, app_id, target, triggers, secret, signing_secret, created_at";

/** Inserts the webhook unless the app already has `max`; false when it has. One statement, so no race. */
export async function insertWebhook(db: D1Database, webhook: Webhook, max: number): Promise<boolean> {
  const result = await whileAppExists(
    db
      .prepare(
        `INSERT INTO webhooks (${COLUMNS})
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE (SELECT COUNT(*) FROM webhooks WHERE app_id = ?2) < ?8`,
      )
      .bind(
        webhook.id,
        webhook.appId,
        webhook.target,
        JSON.stringify(webhook.triggers),
        webhook.secret,
        webhook.signingSecret,
        webhook.createdAt,
        max,
      )
      .run(),
  );
  return result.meta.changes > 0;
}

export async function listWebhooks(db: D1Database, appId: string): Promise<Webhook[]> {
  const { results } = await db
    .prepare(`SELECT ${COLUMNS} FROM webhooks WHERE app_id = ? ORDER BY created_at, id`)
    .bind(appId)
    .all<WebhookRow>();
  return results.map(toWebhook);
}

export async function findWebhook(db: D1Database, id: string): Promise<Webhook | null> {
  const row = await db.prepare(`SELECT ${COLUMNS} FROM webhooks WHERE id = ?`).bind(id).first<WebhookRow>();
  return row && toWebhook(row);
}

export async function updateWebhook(db: D1Database, webhook: Webhook): Promise<void> {
  await db
    .prepare("UPDATE webhooks SET target = ?, triggers = ? WHERE id = ?")
    .bind(webhook.target, JSON.stringify(webhook.triggers), webhook.id)
    .run();
}

export async function setSigningSecret(db: D1Database, id: string, signingSecret: string): Promise<void> {
  await db.prepare("UPDATE webhooks SET signing_secret = ? WHERE id = ?").bind(signingSecret, id).run();
}

export async function deleteWebhook(db: D1Database, id: string): Promise<void> {
  await db.prepare("DELETE FROM webhooks WHERE id = ?").bind(id).run();
}
