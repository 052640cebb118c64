/** The many-to-many link between devices and the app users who have used them. */

export function linkStatement(db: D1Database, appId: string, deviceId: string, appUserId: string) {
  return db
    .prepare("INSERT OR IGNORE INTO device_users (app_id, device_id, app_user_id) VALUES (?, ?, ?)")
    .bind(appId, deviceId, appUserId);
}

/** Links the device to its anonymous user, whoever claimed the slot, unless the device is protected. */
export function linkAnonymousStatement(db: D1Database, appId: string, deviceId: string) {
  return db
    .prepare(
      `INSERT OR IGNORE INTO device_users (app_id, device_id, app_user_id)
       SELECT app_id, id, anonymous_app_user_id FROM devices
       WHERE app_id = ? AND id = ? AND anonymous_app_user_id IS NOT NULL AND protected_at IS NULL`,
    )
    .bind(appId, deviceId);
}

/** Moves every device of a merged user to the survivor; links the survivor already had stay single. */
export function moveLinksStatements(db: D1Database, fromAppUserId: string, toAppUserId: string) {
  return [
    db
      .prepare("UPDATE OR IGNORE device_users SET app_user_id = ? WHERE app_user_id = ?")
      .bind(toAppUserId, fromAppUserId),
    db.prepare("DELETE FROM device_users WHERE app_user_id = ?").bind(fromAppUserId),
  ];
}
