import type { IntegrationType } from "../enums";
import { whileAppExists } from "./constraints";

/** What a response may show of each type, and what only signing reads. */
interface Channels {
  fcm: {
    public: { projectId: string; clientEmail: string; senderId: string | null };
    secret: { privateKeyId: string | null; privateKey: string };
  };
  apn: {
    public: { keyId: string; teamId: string; bundleId: string; production: boolean };
    secret: { key: string };
  };
  webpush: {
    public: { vapidPublicKey: string };
    secret: { vapidPrivateKey: JsonWebKey };
  };
  slack: {
    public: { channelId: string; teamId: string | null; botUserId: string | null };
    secret: { botToken: string; signingSecret: string };
  };
  /** src/channels/email/: the business's addresses, and the key its reply addresses are signed with. */
  email: {
    public: { to: string[]; fromName: string | null };
    secret: { tokenKey: string };
  };
}

/** 'error' once the integration's service refused it for good, with the reason it gave. */
export interface IntegrationStatus {
  status: "active" | "error";
  statusReason: string | null;
}

export type Integration = {
  [T in IntegrationType]: { id: string; appId: string; type: T; createdAt: number } & Channels[T] & Partial<IntegrationStatus>;
}[IntegrationType];

export type IntegrationOf<T extends IntegrationType> = Extract<Integration, { type: T }>;

interface IntegrationRow {
  id: string;
  app_id: string;
  type: IntegrationType;
  public: string;
  secret: string;
  created_at: number;
  status: IntegrationStatus["status"];
  status_reason: string | null;
}

const toIntegration = (row: IntegrationRow): Integration =>
  ({
    id: row.id,
    appId: row.app_id,
    type: row.type,
    public: JSON.parse(row.public),
    secret: JSON.parse(row.secret),
    createdAt: row.created_at,
    status: row.status,
    statusReason: row.status_reason,
  }) as Integration;

const INSERTED = "id, app_id, type, public, secret, created_at";
const COLUMNS = `${INSERTED}, status, status_reason`;

/** Inserts the integration unless the app has one of that type already; false when it has. */
export async function insertIntegration(db: D1Database, integration: Integration): Promise<boolean> {
  const result = await whileAppExists(
    db
      .prepare(`INSERT INTO integrations (${INSERTED}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (app_id, type) DO NOTHING`)
      .bind(
        integration.id,
        integration.appId,
        integration.type,
        JSON.stringify(integration.public),
        JSON.stringify(integration.secret),
        integration.createdAt,
      )
      .run(),
  );
  return result.meta.changes > 0;
}

export async function listIntegrations(db: D1Database, appId: string): Promise<Integration[]> {
  const { results } = await db
    .prepare(`SELECT ${COLUMNS} FROM integrations WHERE app_id = ? ORDER BY created_at, id`)
    .bind(appId)
    .all<IntegrationRow>();
  return results.map(toIntegration);
}

export async function findIntegration(db: D1Database, appId: string, id: string): Promise<Integration | null> {
  const row = await db
    .prepare(`SELECT ${COLUMNS} FROM integrations WHERE id = ? AND app_id = ?`)
    .bind(id, appId)
    .first<IntegrationRow>();
  return row && toIntegration(row);
}

export async function deleteIntegration(db: D1Database, id: string): Promise<void> {
  await db.prepare("DELETE FROM integrations WHERE id = ?").bind(id).run();
}

/** Marks the integration broken, with why: shown on its GET until it is replaced. */
export function integrationErrorStatement(db: D1Database, id: string, reason: string): D1PreparedStatement {
  return db.prepare("UPDATE integrations SET status = 'error', status_reason = ? WHERE id = ?").bind(reason, id);
}

/** An integration by its id alone: the Slack events endpoint knows no app. */
export async function findIntegrationById(db: D1Database, id: string): Promise<Integration | null> {
  const row = await db.prepare(`SELECT ${COLUMNS} FROM integrations WHERE id = ?`).bind(id).first<IntegrationRow>();
  return row && toIntegration(row);
}
