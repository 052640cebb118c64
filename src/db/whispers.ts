import { whileAppExists } from "./constraints";

export interface Whisper {
  id: string;
  appId: string;
  event: string;
  text: string;
  name: string | null;
  avatarUrl: string | null;
  createdAt: number;
}

interface WhisperRow {
  id: string;
  app_id: string;
  event: string;
  text: string;
  name: string | null;
  avatar_url: string | null;
  created_at: number;
}

const toWhisper = (row: WhisperRow): Whisper => ({
  id: row.id,
  appId: row.app_id,
  event: row.event,
  text: row.text,
  name: row.name,
  avatarUrl: row.avatar_url,
  createdAt: row.created_at,
});

const COLUMNS = "id, app_id, event, text, name, avatar_url, created_at";

/** Inserts the whisper unless the app already has `max`; false when it has. One statement, so no race. */
export async function insertWhisper(db: D1Database, whisper: Whisper, max: number): Promise<boolean> {
  const result = await whileAppExists(
    db
      .prepare(
        `INSERT INTO whispers (${COLUMNS})
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE (SELECT COUNT(*) FROM whispers WHERE app_id = ?2) < ?8`,
      )
      .bind(whisper.id, whisper.appId, whisper.event, whisper.text, whisper.name, whisper.avatarUrl, whisper.createdAt, max)
      .run(),
  );
  return result.meta.changes > 0;
}

export async function listWhispers(db: D1Database, appId: string): Promise<Whisper[]> {
  const { results } = await db
    .prepare(`SELECT ${COLUMNS} FROM whispers WHERE app_id = ? ORDER BY created_at, id`)
    .bind(appId)
    .all<WhisperRow>();
  return results.map(toWhisper);
}

export async function listWhispersForEvent(db: D1Database, appId: string, event: string): Promise<Whisper[]> {
  const { results } = await db
    .prepare(`SELECT ${COLUMNS} FROM whispers WHERE app_id = ? AND event = ? ORDER BY created_at, id`)
    .bind(appId, event)
    .all<WhisperRow>();
  return results.map(toWhisper);
}

export async function findWhisper(db: D1Database, appId: string, id: string): Promise<Whisper | null> {
  const row = await db
    .prepare(`SELECT ${COLUMNS} FROM whispers WHERE app_id = ? AND id = ?`)
    .bind(appId, id)
    .first<WhisperRow>();
  return row && toWhisper(row);
}

export async function deleteWhisper(db: D1Database, appId: string, id: string): Promise<boolean> {
  const result = await db.prepare("DELETE FROM whispers WHERE app_id = ? AND id = ?").bind(appId, id).run();
  return result.meta.changes > 0;
}
