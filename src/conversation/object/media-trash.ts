/** Whose uploads an erased message's image may be: these users', or (the app being deleted) any of the app's. */
export type Uploaders = string[] | "app";

/** The longest wait between two purges that R2 failed, and the first. */
const MAX_RETRY_MS = 60_000;
const FIRST_RETRY_MS = 1000;

/**
 * The trash's table, for the Conversation's schema (schema.ts). `owners`: the users whose uploads
 * may go, as a JSON array; rows trashed before it was recorded keep their image.
 */
export function migrateMediaTrash(sql: SqlStorage): void {
  sql.exec("CREATE TABLE IF NOT EXISTS media_trash (key TEXT PRIMARY KEY, app_id TEXT NOT NULL, owners TEXT NOT NULL DEFAULT '[]')");
  if (!sql.exec("SELECT 1 FROM pragma_table_info('media_trash') WHERE name = 'owners'").toArray().length) {
    sql.exec("ALTER TABLE media_trash ADD COLUMN owners TEXT NOT NULL DEFAULT '[]'");
  }
}

/**
 * Images of erased messages, still to be deleted from R2. Written in the transaction that erases
 * the messages, deleted from R2 before the erasing call returns (a deleted image answers 404 at
 * once), and by the object's alarm should R2 fail: no crash and no R2 error leaves an image behind.
 *
 * An image goes only if it was uploaded to the same app for one of the erased users (the
 * `appId` and `appUserId` its upload wrote to the object's custom metadata; any of the app's
 * when the app is deleted): a message may carry
 * any URL, and erasing it must never delete an image another user uploaded or another app holds.
 */
export class MediaTrash {
  /** Purges R2 failed in a row: the alarm's backoff. */
  private failures = 0;

  constructor(
    private readonly sql: SqlStorage,
    private readonly bucket: R2Bucket,
  ) {}

  /** Call inside the erasing transaction, with the erased messages' `mediaUrl`s and the users whose uploads they may be. */
  add(appId: string, owners: Uploaders, mediaUrls: Array<string | undefined>): void {
    for (const url of mediaUrls) {
      const key = mediaKeyOf(url);
      if (key) {
        this.sql.exec("INSERT OR REPLACE INTO media_trash (key, app_id, owners) VALUES (?, ?, ?)", key, appId, JSON.stringify(owners));
      }
    }
  }

  get pending(): boolean {
    return this.sql.exec("SELECT 1 FROM media_trash LIMIT 1").toArray().length > 0;
  }

  /**
   * Deletes the trashed images that are the owners' own. A row leaves the trash only once R2 has
   * answered for it: should `head` or `delete` fail, it stays, the others are still tried, and
   * the error is thrown for the caller to retry (see retryInMs).
   */
  async purge(): Promise<void> {
    const rows = this.sql.exec<{ key: string; app_id: string; owners: string }>("SELECT key, app_id, owners FROM media_trash").toArray();
    let failed: unknown = null;
    for (const { key, app_id: appId, owners } of rows) {
      try {
        const head = await this.bucket.head(key);
        const uploaded = head?.customMetadata ?? {};
        if (uploaded.appId === appId && isAmong(uploaded.appUserId, JSON.parse(owners))) await this.bucket.delete(key);
        this.sql.exec("DELETE FROM media_trash WHERE key = ?", key);
      } catch (error) {
        failed ??= error;
      }
    }
    if (failed !== null) {
      this.failures++;
      throw failed;
    }
    this.failures = 0;
  }

  /** How long to wait before purging again after a failed purge: growing, capped at a minute. */
  get retryInMs(): number {
    return Math.min(FIRST_RETRY_MS * 2 ** Math.max(this.failures - 1, 0), MAX_RETRY_MS);
  }
}

const isAmong = (uploader: string | undefined, owners: Uploaders) =>
  uploader !== undefined && (owners === "app" || owners.includes(uploader));

/** What this service names an upload: two ids (48 hex digits) and the sniffed type's extension. */
const UPLOAD_KEY = /^[0-9a-f]{48}\.(jpg|png|gif|webp)$/;

/**
 * The R2 key of a media URL this service made (`.../v1/media/<key>`); null for any other URL,
 * and for a name no upload has (which R2 may refuse outright, and which can hold nothing to delete).
 */
export function mediaKeyOf(url: string | undefined): string | null {
  if (!url) return null;
  try {
    const match = /\/v1\/media\/([^/]+)$/.exec(new URL(url).pathname);
    const key = match ? decodeURIComponent(match[1]) : null;
    return key !== null && UPLOAD_KEY.test(key) ? key : null;
  } catch {
    return null;
  }
}
