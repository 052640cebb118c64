/** The trash's table, for the Conversation's schema (schema.ts). */
export const MEDIA_TRASH_TABLE = "CREATE TABLE IF NOT EXISTS media_trash (key TEXT PRIMARY KEY, app_id TEXT NOT NULL)";

/**
 * Images of erased messages, still to be deleted from R2. Written in the transaction that erases
 * the messages, deleted from R2 before the erasing call returns (a deleted image answers 404 at
 * once), and by the object's alarm should that fail: no crash leaves an image behind.
 */
export class MediaTrash {
  constructor(
    private readonly sql: SqlStorage,
    private readonly bucket: R2Bucket,
  ) {}

  /** Call inside the erasing transaction, with the erased messages' `mediaUrl`s. */
  add(appId: string, mediaUrls: Array<string | undefined>): void {
    for (const url of mediaUrls) {
      const key = mediaKeyOf(url);
      if (key) this.sql.exec("INSERT OR IGNORE INTO media_trash (key, app_id) VALUES (?, ?)", key, appId);
    }
  }

  get pending(): boolean {
    return this.sql.exec("SELECT 1 FROM media_trash LIMIT 1").toArray().length > 0;
  }

  /**
   * Deletes the trashed images. Only an object uploaded to the same app goes: a message may
   * carry any URL, and erasing it must never delete another app's image.
   */
  async purge(): Promise<void> {
    const rows = this.sql.exec<{ key: string; app_id: string }>("SELECT key, app_id FROM media_trash").toArray();
    for (const { key, app_id: appId } of rows) {
      const head = await this.bucket.head(key).catch(() => null);
      if (head?.customMetadata?.appId === appId) await this.bucket.delete(key);
      this.sql.exec("DELETE FROM media_trash WHERE key = ?", key);
    }
  }
}

/** The R2 key of a media URL this service made (`.../v1/media/<key>`); null for any other URL. */
export function mediaKeyOf(url: string | undefined): string | null {
  if (!url) return null;
  try {
    const match = /\/v1\/media\/([^/]+)$/.exec(new URL(url).pathname);
    return match ? decodeURIComponent(match[1]) : null;
  } catch {
    return null;
  }
}
