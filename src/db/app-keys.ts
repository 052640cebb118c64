import { whileAppExists } from "./constraints";

export interface AppKey {
  id: string;
  appId: string;
  name: string;
  secret: string;
  createdAt: number;
}

interface AppKeyRow {
  id: string;
  app_id: string;
  name: string;
  secret: string;
  created_at: number;
}

const toAppKey = (row: AppKeyRow): AppKey => ({
  id: row.id,
  appId: row.app_id,
  name: row.name,
  secret: row.secret,
  createdAt: row.created_at,
});

const COLUMNS = "id, app_id, name, secret, created_at";

/** Inserts the key unless the app already has `max`; false when it has. One statement, so no race. */
export async function insertAppKey(db: D1Database, key: AppKey, max: number): Promise<boolean> {
  const result = await whileAppExists(
    db
      .prepare(
        `INSERT INTO app_keys (id, app_id, name, secret, created_at)
         SELECT ?1, ?2, ?3, ?4, ?5 WHERE (SELECT COUNT(*) FROM app_keys WHERE app_id = ?2) < ?6`,
      )
      .bind(key.id, key.appId, key.name, key.secret, key.createdAt, max)
      .run(),
  );
  return result.meta.changes > 0;
}

export async function findAppKey(db: D1Database, id: string): Promise<AppKey | null> {
  const row = await db.prepare(`SELECT ${COLUMNS} FROM app_keys WHERE id = ?`).bind(id).first<AppKeyRow>();
  return row && toAppKey(row);
}

export async function listAppKeys(db: D1Database, appId: string): Promise<AppKey[]> {
  const { results } = await db
    .prepare(`SELECT ${COLUMNS} FROM app_keys WHERE app_id = ? ORDER BY created_at, id`)
    .bind(appId)
    .all<AppKeyRow>();
  return results.map(toAppKey);
}

export async function deleteAppKey(db: D1Database, appId: string, id: string): Promise<boolean> {
  const result = await db.prepare("DELETE FROM app_keys WHERE app_id = ? AND id = ?").bind(appId, id).run();
  return result.meta.changes > 0;
}
