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

export async function findApp(db: D1Database, id: string): Promise<App | null> {
  const row = await db.prepare(`SELECT ${COLUMNS} FROM apps WHERE id = ?`).bind(id).first<AppRow>();
  return row && toApp(row);
}

export async function findAppByToken(db: D1Database, token: string): Promise<App | null> {
  const row = await db.prepare(`SELECT ${COLUMNS} FROM apps WHERE app_token = ?`).bind(token).first<AppRow>();
  return row && toApp(row);
}

/** The oldest app of that name. */
export async function findAppByName(db: D1Database, name: string): Promise<App | null> {
  const row = await db.prepare(`SELECT ${COLUMNS} FROM apps WHERE name = ? ORDER BY created_at, id LIMIT 1`).bind(name).first<AppRow>();
  return row && toApp(row);
}

export async function listApps(db: D1Database, limit: number, offset: number): Promise<App[]> {
  const { results } = await db
    .prepare(`SELECT ${COLUMNS} FROM apps ORDER BY created_at, id LIMIT ? OFFSET ?`)
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

export async function deleteApp(db: D1Database, id: string): Promise<boolean> {
  const result = await db.prepare("DELETE FROM apps WHERE id = ?").bind(id).run();
  return result.meta.changes > 0;
}
