import type { Platform } from "../enums";
import { FLAT_OBJECT_MAX_BYTES, type FlatObject } from "../lib/schemas";
import { parseObject } from "./json";

export interface Device {
  appId: string;
  id: string;
  platform: Platform;
  appVersion: string | null;
  pushNotificationToken: string | null;
  info: FlatObject;
  activeAppUserId: string | null;
  anonymousAppUserId: string | null;
  /** When a credentialRequired user first signed in on it; from then on only JWTs change it. */
  protectedAt: number | null;
}

export interface DeviceChanges {
  platform?: Platform;
  appVersion?: string;
  pushNotificationToken?: string;
  info?: FlatObject;
}

interface DeviceRow {
  app_id: string;
  id: string;
  platform: Platform;
  app_version: string | null;
  push_notification_token: string | null;
  info: string;
  active_app_user_id: string | null;
  anonymous_app_user_id: string | null;
  protected_at: number | null;
}

const toDevice = (row: DeviceRow): Device => ({
  appId: row.app_id,
  id: row.id,
  platform: row.platform,
  appVersion: row.app_version,
  pushNotificationToken: row.push_notification_token,
  info: parseObject(row.info),
  activeAppUserId: row.active_app_user_id,
  anonymousAppUserId: row.anonymous_app_user_id,
  protectedAt: row.protected_at,
});

/** Reported info keys are merged into the stored ones, unless that outgrows the limit: then the report replaces them. */
const mergeInfo = (reported: string) =>
  `CASE WHEN length(CAST(json_patch(info, ${reported}) AS BLOB)) <= ${FLAT_OBJECT_MAX_BYTES}
        THEN json_patch(info, ${reported}) ELSE ${reported} END`;

const COLUMNS =
  "app_id, id, platform, app_version, push_notification_token, info, active_app_user_id, anonymous_app_user_id, protected_at";

/** Who is writing the device: only a JWT may change a protected one; a protected user's sign-in protects it. */
export interface DeviceWriter {
  trusted: boolean;
  protects: boolean;
}

/**
 * Creates the device or updates what init reported about it (`info` keys are merged); a
 * protected device is left as it is unless the writer is trusted. Batch deviceStatement after
 * it to read the device as stored either way.
 */
export function upsertDeviceStatement(
  db: D1Database,
  appId: string,
  id: string,
  changes: DeviceChanges & { platform: Platform },
  writer: DeviceWriter,
): D1PreparedStatement {
  const now = Date.now();
  return db
    .prepare(
      `INSERT INTO devices (app_id, id, platform, app_version, push_notification_token, info, updated_at, protected_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
       ON CONFLICT (app_id, id) DO UPDATE SET
         platform = excluded.platform,
         app_version = COALESCE(excluded.app_version, app_version),
         push_notification_token = COALESCE(excluded.push_notification_token, push_notification_token),
         info = ${mergeInfo("excluded.info")},
         updated_at = excluded.updated_at,
         protected_at = COALESCE(protected_at, excluded.protected_at)
       WHERE ?9 OR protected_at IS NULL`,
    )
    .bind(
      appId,
      id,
      changes.platform,
      changes.appVersion ?? null,
      changes.pushNotificationToken ?? null,
      JSON.stringify(changes.info ?? {}),
      now,
      writer.protects ? now : null,
      writer.trusted ? 1 : 0,
    );
}

export function deviceStatement(db: D1Database, appId: string, id: string): D1PreparedStatement {
  return db.prepare(`SELECT ${COLUMNS} FROM devices WHERE app_id = ? AND id = ?`).bind(appId, id);
}

/** The device deviceStatement read right after it was written. */
export function readWrittenDevice(id: string, result: D1Result): Device {
  const row = result.results[0] as DeviceRow | undefined;
  if (!row) throw new Error(`device ${id} was not written`);
  return toDevice(row);
}

/** Updates a device linked to the given user; null when there is no such link. */
export async function updateUserDevice(
  db: D1Database,
  appId: string,
  appUserId: string,
  id: string,
  changes: DeviceChanges,
): Promise<Device | null> {
  const row = await db
    .prepare(
      `UPDATE devices SET
         platform = COALESCE(?4, platform),
         app_version = COALESCE(?5, app_version),
         push_notification_token = COALESCE(?6, push_notification_token),
         info = ${mergeInfo("?7")},
         updated_at = ?8
       WHERE app_id = ?1 AND id = ?3
         AND EXISTS (SELECT 1 FROM device_users d WHERE d.app_id = ?1 AND d.device_id = ?3 AND d.app_user_id = ?2)
       RETURNING ${COLUMNS}`,
    )
    .bind(
      appId,
      appUserId,
      id,
      changes.platform ?? null,
      changes.appVersion ?? null,
      changes.pushNotificationToken ?? null,
      JSON.stringify(changes.info ?? {}),
      Date.now(),
    )
    .first<DeviceRow>();
  return row && toDevice(row);
}

/**
 * A protected device whose anonymous user this is: an app-token init there made the user, which
 * is never linked to the device (see claimAnonymousStatement). Null for any other device.
 */
export async function protectedDeviceOfAnonymous(db: D1Database, appId: string, appUserId: string, id: string): Promise<Device | null> {
  const row = await db
    .prepare(`SELECT ${COLUMNS} FROM devices WHERE app_id = ? AND id = ? AND anonymous_app_user_id = ? AND protected_at IS NOT NULL`)
    .bind(appId, id, appUserId)
    .first<DeviceRow>();
  return row && toDevice(row);
}

/** The platform of a device the user has used; null for any other device. */
export async function userDevicePlatform(db: D1Database, appId: string, appUserId: string, id: string): Promise<Platform | null> {
  const row = await db
    .prepare(
      `SELECT d.platform FROM devices d
       JOIN device_users u ON u.app_id = d.app_id AND u.device_id = d.id AND u.app_user_id = ?3
       WHERE d.app_id = ?1 AND d.id = ?2`,
    )
    .bind(appId, id, appUserId)
    .first<{ platform: Platform }>();
  return row?.platform ?? null;
}

/**
 * Fills the device's anonymous user slot with `candidateId` unless it holds a user already, and
 * makes whoever holds it the active user, unless a protected user has claimed the device: its
 * anonymous user then never becomes active, so it is never merged into whoever signs in there next.
 */
export function claimAnonymousStatement(db: D1Database, appId: string, id: string, candidateId: string) {
  return db
    .prepare(
      `UPDATE devices SET
         anonymous_app_user_id = COALESCE(anonymous_app_user_id, ?1),
         active_app_user_id = CASE WHEN protected_at IS NULL THEN COALESCE(anonymous_app_user_id, ?1) ELSE active_app_user_id END
       WHERE app_id = ?2 AND id = ?3`,
    )
    .bind(candidateId, appId, id);
}

export function setActiveUserStatement(db: D1Database, appId: string, id: string, appUserId: string) {
  return db.prepare("UPDATE devices SET active_app_user_id = ? WHERE app_id = ? AND id = ?").bind(appUserId, appId, id);
}

/** After a merge the device's anonymous slot points at the survivor, who is identified. */
export function releaseAnonymousStatement(db: D1Database, appId: string, anonymousId: string) {
  return db
    .prepare(
      "UPDATE devices SET anonymous_app_user_id = NULL WHERE app_id = ? AND anonymous_app_user_id = ?",
    )
    .bind(appId, anonymousId);
}

const inList = (param: string) => `(SELECT value FROM json_each(${param}))`;
/** The devices these users were linked to, by device_users_by_user (`+app_id`: not by the app's every link). */
const linkedDevices = (appParam: string, usersParam: string) =>
  `(SELECT device_id FROM device_users WHERE app_user_id IN ${inList(usersParam)} AND +app_id = ${appParam})`;

/** Clears what identifies a person on the users' devices: push tokens and reported info. */
export function eraseDeviceDetailsStatement(db: D1Database, appId: string, appUserIds: string[]) {
  return db
    .prepare(
      `UPDATE devices SET push_notification_token = NULL, info = '{}'
       WHERE app_id = ?1 AND id IN ${linkedDevices("?1", "?2")}`,
    )
    .bind(appId, JSON.stringify(appUserIds));
}

/**
 * Before these users are deleted: devices only they used go, and shared devices stop naming
 * them as their active or anonymous user (a later init there starts afresh).
 */
export function forgetUsersDevicesStatements(db: D1Database, appId: string, appUserIds: string[]) {
  const ids = JSON.stringify(appUserIds);
  return [
    db
      .prepare(
        `DELETE FROM devices WHERE app_id = ?1
           AND id IN ${linkedDevices("?1", "?2")}
           AND NOT EXISTS (SELECT 1 FROM device_users o WHERE o.app_id = ?1 AND o.device_id = devices.id
                           AND o.app_user_id NOT IN ${inList("?2")})`,
      )
      .bind(appId, ids),
    db
      .prepare(`UPDATE devices SET active_app_user_id = NULL WHERE app_id = ?1 AND active_app_user_id IN ${inList("?2")}`)
      .bind(appId, ids),
    db
      .prepare(`UPDATE devices SET anonymous_app_user_id = NULL WHERE app_id = ?1 AND anonymous_app_user_id IN ${inList("?2")}`)
      .bind(appId, ids),
  ];
}

/** A device as a push needs it: where to send, and whose pushes it currently gets. */
export interface PushDevice {
  appId: string;
  id: string;
  platform: Platform;
  token: string;
  activeAppUserId: string | null;
}

interface PushDeviceRow {
  app_id: string;
  id: string;
  platform: Platform;
  push_notification_token: string;
  active_app_user_id: string | null;
}

const toPushDevice = (row: PushDeviceRow): PushDevice => ({
  appId: row.app_id,
  id: row.id,
  platform: row.platform,
  token: row.push_notification_token,
  activeAppUserId: row.active_app_user_id,
});

const PUSH_COLUMNS = "d.app_id, d.id, d.platform, d.push_notification_token, d.active_app_user_id";

/** The devices with a push token whose current user (the last to call init there) is this user, newest first. */
export async function pushDevicesOf(db: D1Database, appId: string, appUserId: string, limit: number): Promise<PushDevice[]> {
  const { results } = await db
    .prepare(
      `SELECT ${PUSH_COLUMNS} FROM devices d
       WHERE d.app_id = ? AND d.active_app_user_id = ? AND d.push_notification_token IS NOT NULL
       ORDER BY d.updated_at DESC LIMIT ?`,
    )
    .bind(appId, appUserId, limit)
    .all<PushDeviceRow>();
  return results.map(toPushDevice);
}

/** These devices as they stand now, those with a push token only: read with `pushDevicesByKey`. */
export function currentPushDevicesStatement(db: D1Database, devices: { appId: string; id: string }[]): D1PreparedStatement {
  // Each pair a primary-key lookup.
  return db
    .prepare(
      `SELECT ${PUSH_COLUMNS} FROM json_each(?) j
       JOIN devices d ON d.app_id = json_extract(j.value, '$[0]') AND d.id = json_extract(j.value, '$[1]')
       WHERE d.push_notification_token IS NOT NULL`,
    )
    .bind(JSON.stringify(devices.map((device) => [device.appId, device.id])));
}

/** What currentPushDevicesStatement read, by `${appId}/${id}`. */
export const pushDevicesByKey = (rows: unknown[]): Map<string, PushDevice> =>
  new Map((rows as PushDeviceRow[]).map((row) => [`${row.app_id}/${row.id}`, toPushDevice(row)]));

/** Clears a dead push token, unless the device has registered another since. */
export function clearPushTokenStatement(db: D1Database, appId: string, id: string, token: string) {
  return db
    .prepare("UPDATE devices SET push_notification_token = NULL WHERE app_id = ? AND id = ? AND push_notification_token = ?")
    .bind(appId, id, token);
}

/** The devices a user has signed in on, most recently known first (at most `limit`). */
export async function devicesOfUser(db: D1Database, appId: string, appUserId: string, limit: number): Promise<Device[]> {
  const { results } = await db
    .prepare(
      `SELECT ${COLUMNS.split(", ").map((column) => `d.${column}`).join(", ")} FROM devices d
       JOIN device_users u ON u.app_id = d.app_id AND u.device_id = d.id AND u.app_user_id = ?2
       WHERE d.app_id = ?1 ORDER BY d.rowid DESC LIMIT ?3`,
    )
    .bind(appId, appUserId, limit)
    .all<DeviceRow>();
  return results.map(toDevice);
}
