import type { FlatObject } from "../lib/schemas";
import { parseObject } from "./json";

export interface App {
  id: string;
  name: string;
  appToken: string;
  settings: FlatObject;
  createdAt: number;
}

interface AppRow {
  id: string;
  name: string;
  app_token: string;
  settings: string;
  created_at: number;
}

const toApp = (row: AppRow): App => ({
  id: row.id,
  name: row.name,
  appToken: row.app_token,
  settings: parseObject(row.settings),
  createdAt: row.created_at,
});

const COLUMNS = "id, name, app_token, settings, created_at";

export async function insertApp(db: D1Database, app: App): Promise<void> {
  await db
    .prepare("INSERT INTO apps (id, name, app_token, settings, created_at) VALUES (?, ?, ?, ?, ?)")
    .bind(app.id, app.name, app.appToken, JSON.stringify(app.settings), app.createdAt)
    .run();
}

/** An app being deleted is gone for every caller: only its erasure still sees it (appDeletionState). */
export async function findApp(db: D1Database, id: string): Promise<App | null> {
  const row = await db.prepare(`SELECT ${COLUMNS} FROM apps WHERE id = ? AND deleted_at IS NULL`).bind(id).first<AppRow>();
  return row && toApp(row);
}

/** Whether the app exists and is not being deleted: one row's key, nothing to map. */
export async function isAppLive(db: D1Database, id: string): Promise<boolean> {
  return (await db.prepare("SELECT 1 FROM apps WHERE id = ? AND deleted_at IS NULL").bind(id).first()) !== null;
}

/** Whether the app is live, being deleted, or gone entirely: what its eraser acts on. */
export async function appDeletionState(db: D1Database, id: string): Promise<"live" | "deleting" | "gone"> {
  const row = await db.prepare("SELECT deleted_at FROM apps WHERE id = ?").bind(id).first<{ deleted_at: number | null }>();
  return !row ? "gone" : row.deleted_at === null ? "live" : "deleting";
}

export async function findAppByToken(db: D1Database, token: string): Promise<App | null> {
  const row = await db
    .prepare(`SELECT ${COLUMNS} FROM apps WHERE app_token = ? AND deleted_at IS NULL`)
    .bind(token)
    .first<AppRow>();
  return row && toApp(row);
}

/** The app the demo made and marked (migrations/0009), unless it is deleted or being deleted. */
export async function findDemoApp(db: D1Database): Promise<App | null> {
  const row = await db
    .prepare(`SELECT ${COLUMNS} FROM apps WHERE id = (SELECT app_id FROM demo_app) AND deleted_at IS NULL`)
    .first<AppRow>();
  return row && toApp(row);
}

/** Marks the app as the demo's, unless a live one already is (a concurrent first visit made it). */
export async function markDemoApp(db: D1Database, appId: string): Promise<void> {
  await db
    .prepare(
      `INSERT INTO demo_app (singleton, app_id) VALUES (1, ?1)
       ON CONFLICT (singleton) DO UPDATE SET app_id = excluded.app_id
       WHERE NOT EXISTS (SELECT 1 FROM apps WHERE id = demo_app.app_id AND deleted_at IS NULL)`,
    )
    .bind(appId)
    .run();
}

export async function listApps(db: D1Database, limit: number, offset: number): Promise<App[]> {
  const { results } = await db
    .prepare(`SELECT ${COLUMNS} FROM apps WHERE deleted_at IS NULL ORDER BY created_at, id LIMIT ? OFFSET ?`)
    .bind(limit, offset)
    .all<AppRow>();
  return results.map(toApp);
}

export async function updateApp(db: D1Database, app: App): Promise<void> {
  await db
    .prepare("UPDATE apps SET name = ?, settings = ? WHERE id = ?")
    .bind(app.name, JSON.stringify(app.settings), app.id)
    .run();
}

export async function setAppToken(db: D1Database, id: string, appToken: string): Promise<void> {
  await db.prepare("UPDATE apps SET app_token = ? WHERE id = ?").bind(appToken, id).run();
}

/**
 * The first, immediate step of an app's deletion, in one transaction: the app reads as gone,
 * its keys, webhooks, whispers and integrations are deleted, and its app token can never match again.
 */
export function markAppDeletedStatements(db: D1Database, id: string, now: number): D1PreparedStatement[] {
  return [
    db
      .prepare("UPDATE apps SET deleted_at = ?2, app_token = 'deleted:' || id WHERE id = ?1 AND deleted_at IS NULL")
      .bind(id, now),
    db.prepare("DELETE FROM app_keys WHERE app_id = ?").bind(id),
    db.prepare("DELETE FROM webhooks WHERE app_id = ?").bind(id),
    db.prepare("DELETE FROM whispers WHERE app_id = ?").bind(id),
    // Push channels hold the app's provider secrets: they go at once, not with the row.
    db.prepare("DELETE FROM integrations WHERE app_id = ?").bind(id),
  ];
}

/**
 * The last step, once its users are erased: the row and whatever still points at it (cascade).
 * False while a user remains (one created by an isolate that still trusted a cached credential).
 */
export async function deleteErasedApp(db: D1Database, id: string): Promise<boolean> {
  const result = await db
    .prepare(
      `DELETE FROM apps WHERE id = ?1 AND deleted_at IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM app_users WHERE app_id = ?1)`,
    )
    .bind(id)
    .run();
  return result.meta.changes > 0;
}
