import { FLAT_OBJECT_MAX_BYTES, type FlatObject } from "../lib/schemas";
import { parseObject } from "./json";
import { conflict } from "../errors";
import { whileAppExists } from "./constraints";

export interface AppUser {
  id: string;
  appId: string;
  userId: string | null;
  conversationId: string;
  givenName: string | null;
  surname: string | null;
  email: string | null;
  signedUpAt: string;
  properties: FlatObject;
  conversationStarted: boolean;
  credentialRequired: boolean;
}

export interface ProfileChanges {
  givenName?: string;
  surname?: string;
  email?: string;
  signedUpAt?: string;
  properties?: FlatObject;
}

interface AppUserRow {
  id: string;
  app_id: string;
  user_id: string | null;
  conversation_id: string;
  given_name: string | null;
  surname: string | null;
  email: string | null;
  signed_up_at: string;
  properties: string;
  conversation_started: number;
  credential_required: number;
}

const toAppUser = (row: AppUserRow): AppUser => ({
  id: row.id,
  appId: row.app_id,
  userId: row.user_id,
  conversationId: row.conversation_id,
  givenName: row.given_name,
  surname: row.surname,
  email: row.email,
  signedUpAt: row.signed_up_at,
  properties: parseObject(row.properties),
  conversationStarted: row.conversation_started === 1,
  credentialRequired: row.credential_required === 1,
});

const COLUMNS =
  "id, app_id, user_id, conversation_id, given_name, surname, email, signed_up_at, properties, conversation_started, credential_required";
/** The same columns of `u`, the user a merge kept, in the queries that follow a merge. */
const SURVIVOR_COLUMNS = COLUMNS.replace(/(\w+)/g, "u.$1");

const insertValues = (user: AppUser) => [
  user.id,
  user.appId,
  user.userId,
  user.conversationId,
  user.givenName,
  user.surname,
  user.email,
  user.signedUpAt,
  JSON.stringify(user.properties),
  user.conversationStarted ? 1 : 0,
  user.credentialRequired ? 1 : 0,
  Date.now(),
];

/** Inserts the user unless its userId is taken. */
export function insertAppUserStatement(db: D1Database, user: AppUser): D1PreparedStatement {
  return db
    .prepare(`INSERT OR IGNORE INTO app_users (${COLUMNS}, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    .bind(...insertValues(user));
}

/** Inserts an anonymous user for the device's anonymous slot, unless the device already has one. */
export function insertAnonymousCandidateStatement(db: D1Database, user: AppUser, deviceId: string): D1PreparedStatement {
  return db
    .prepare(
      `INSERT OR IGNORE INTO app_users (${COLUMNS}, created_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12
       WHERE NOT EXISTS (SELECT 1 FROM devices WHERE app_id = ?2 AND id = ?13 AND anonymous_app_user_id IS NOT NULL)`,
    )
    .bind(...insertValues(user), deviceId);
}

/** Inserts the user unless its userId is taken; true when this call created it. */
export async function insertAppUser(db: D1Database, user: AppUser): Promise<boolean> {
  const result = await whileAppExists(insertAppUserStatement(db, user).run());
  return result.meta.changes > 0;
}

/** The device's anonymous user, through a merge to its survivor: read it with `readAppUser`. */
export function anonymousUserOfDeviceStatement(db: D1Database, appId: string, deviceId: string) {
  return db
    .prepare(
      `SELECT ${SURVIVOR_COLUMNS} FROM devices d
       JOIN app_users a ON a.id = d.anonymous_app_user_id
       JOIN app_users u ON u.id = COALESCE(a.merged_into, a.id)
       WHERE d.app_id = ? AND d.id = ?`,
    )
    .bind(appId, deviceId);
}

export const readAppUser = (result: D1Result): AppUser | null => {
  const row = result.results[0] as AppUserRow | undefined;
  return row ? toAppUser(row) : null;
};

/**
 * Finds a user by `_id` or `userId` (an `_id` match wins), following a merge to its survivor.
 * Nobody of an app being deleted is found: every app-user route refuses at once, in every isolate.
 */
export async function resolveAppUser(db: D1Database, appId: string, idOrUserId: string): Promise<AppUser | null> {
  const row = await db
    .prepare(
      `SELECT ${SURVIVOR_COLUMNS} FROM app_users a
       JOIN app_users u ON u.id = COALESCE(a.merged_into, a.id)
       JOIN apps ON apps.id = a.app_id AND apps.deleted_at IS NULL
       WHERE a.app_id = ?1 AND (a.id = ?2 OR a.user_id = ?2)
       ORDER BY a.id = ?2 DESC LIMIT 1`,
    )
    .bind(appId, idOrUserId)
    .first<AppUserRow>();
  return row && toAppUser(row);
}

export async function findAppUserByUserId(db: D1Database, appId: string, userId: string): Promise<AppUser | null> {
  const row = await db
    .prepare(`SELECT ${COLUMNS} FROM app_users WHERE app_id = ? AND user_id = ?`)
    .bind(appId, userId)
    .first<AppUserRow>();
  return row && toAppUser(row);
}

export async function findAppUser(db: D1Database, id: string): Promise<AppUser | null> {
  const row = await db.prepare(`SELECT ${COLUMNS} FROM app_users WHERE id = ?`).bind(id).first<AppUserRow>();
  return row && toAppUser(row);
}

/**
 * Additive update done by SQLite itself, so concurrent updates of different keys both land.
 * Null, and nothing written, when the merged properties would outgrow the flat-object limit:
 * each request is checked for size, but many additive ones could otherwise pile up without bound.
 */
export async function updateProfile(db: D1Database, id: string, changes: ProfileChanges): Promise<AppUser | null> {
  const row = await db
    .prepare(
      `UPDATE app_users SET
         given_name = COALESCE(?2, given_name),
         surname = COALESCE(?3, surname),
         email = COALESCE(?4, email),
         signed_up_at = COALESCE(?5, signed_up_at),
         properties = json_patch(properties, ?6)
       WHERE id = ?1 AND length(CAST(json_patch(properties, ?6) AS BLOB)) <= ?7 RETURNING ${COLUMNS}`,
    )
    .bind(
      id,
      changes.givenName ?? null,
      changes.surname ?? null,
      changes.email ?? null,
      changes.signedUpAt ?? null,
      JSON.stringify(changes.properties ?? {}),
      FLAT_OBJECT_MAX_BYTES,
    )
    .first<AppUserRow>();
  if (!row) {
    if (await findAppUser(db, id)) return null;
    throw conflict("appUserId: the app user was deleted while this request ran");
  }
  return toAppUser(row);
}

export async function markConversationStarted(db: D1Database, id: string): Promise<void> {
  await db.prepare("UPDATE app_users SET conversation_started = 1 WHERE id = ?").bind(id).run();
}

/**
 * The D1 half of a merge, in one transaction: the survivor takes the anonymous user's profile
 * where its own has gaps, and the anonymous `_id` resolves to the survivor from now on.
 */
export function mergeStatements(db: D1Database, anonymous: AppUser, survivorId: string): D1PreparedStatement[] {
  return [
    db
      .prepare(
        `UPDATE app_users SET
           given_name = COALESCE(given_name, ?2),
           surname = COALESCE(surname, ?3),
           email = COALESCE(email, ?4),
           -- The anonymous user's properties fill gaps only while the result stays within the limit.
           properties = CASE WHEN length(CAST(json_patch(?5, properties) AS BLOB)) <= ?7
                        THEN json_patch(?5, properties) ELSE properties END,
           conversation_started = MAX(conversation_started, ?6)
         WHERE id = ?1`,
      )
      .bind(
        survivorId,
        anonymous.givenName,
        anonymous.surname,
        anonymous.email,
        JSON.stringify(anonymous.properties),
        anonymous.conversationStarted ? 1 : 0,
        FLAT_OBJECT_MAX_BYTES,
      ),
    db.prepare("UPDATE app_users SET merged_into = ?2 WHERE id = ?1").bind(anonymous.id, survivorId),
    db.prepare("UPDATE app_users SET merged_into = ?2 WHERE merged_into = ?1").bind(anonymous.id, survivorId),
  ];
}

/** A user's row and the rows merged into it (their `_id`s resolve to it), with their conversations. */
export async function userAndMergedRows(db: D1Database, id: string): Promise<Array<{ id: string; conversationId: string }>> {
  const { results } = await db
    .prepare("SELECT id, conversation_id FROM app_users WHERE id = ?1 OR merged_into = ?1")
    .bind(id)
    .all<{ id: string; conversation_id: string }>();
  return results.map((row) => ({ id: row.id, conversationId: row.conversation_id }));
}

/** Up to `limit` of an app's user rows (merged ones included), for its erasure. */
export async function someUserRowsOfApp(db: D1Database, appId: string, limit: number) {
  const { results } = await db
    .prepare("SELECT id, conversation_id FROM app_users WHERE app_id = ? LIMIT ?")
    .bind(appId, limit)
    .all<{ id: string; conversation_id: string }>();
  return results.map((row) => ({ id: row.id, conversationId: row.conversation_id }));
}

/** Erases the profile of these rows: names, email and every custom property; the rows stay. */
export function eraseProfileStatement(db: D1Database, ids: string[]): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE app_users SET given_name = NULL, surname = NULL, email = NULL, properties = '{}'
       WHERE id IN (SELECT value FROM json_each(?))`,
    )
    .bind(JSON.stringify(ids));
}

/**
 * Deletes these rows of the app; their device links go with them (ON DELETE CASCADE). Each by its
 * primary key: `+app_id` keeps SQLite from walking the app's users by app_users_by_app instead.
 */
export function deleteUsersStatement(db: D1Database, appId: string, ids: string[]): D1PreparedStatement {
  return db
    .prepare("DELETE FROM app_users WHERE id IN (SELECT value FROM json_each(?2)) AND +app_id = ?1")
    .bind(appId, JSON.stringify(ids));
}

/** Whether the user who uploaded an image still exists, in an app that is not being deleted. */
export async function isLiveUser(db: D1Database, appId: string, id: string): Promise<boolean> {
  const row = await db
    .prepare("SELECT 1 AS live FROM app_users u JOIN apps a ON a.id = u.app_id AND a.deleted_at IS NULL WHERE u.id = ? AND u.app_id = ?")
    .bind(id, appId)
    .first();
  return row !== null;
}

export async function countUsersOfApp(db: D1Database, appId: string): Promise<number> {
  return (await db.prepare("SELECT COUNT(*) AS n FROM app_users WHERE app_id = ?").bind(appId).first<{ n: number }>())?.n ?? 0;
}
