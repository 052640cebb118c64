import { migrateOutbox } from "../../delivery/outbox";
import { migrateMediaTrash } from "./media-trash";
import { SUBSCRIBERS_TABLE } from "./subscribers";

/**
 * The version of the Conversation object's tables this code expects. Raise it with a new step
 * in `migrate`; an object stored before versions existed counts as version 0.
 */
export const SCHEMA_VERSION = 1;

const VERSION_KEY = "schemaVersion";

/** Version 1: every table as of the one delivery pipeline, the outboxes of before merged into one. */
function toVersion1(sql: SqlStorage): void {
  // received_ms is the rowid: ordered, unique, and an index for paging at no extra cost.
  sql.exec(`CREATE TABLE IF NOT EXISTS messages (
    received_ms INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL
  )`);
  sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  // The postback buttons of appMaker messages, by their _id, for POST .../conversation/postback.
  sql.exec("CREATE TABLE IF NOT EXISTS postbacks (action_id TEXT PRIMARY KEY, received_ms INTEGER NOT NULL)");
  migrateMediaTrash(sql);
  sql.exec(SUBSCRIBERS_TABLE);
  migrateOutbox(sql);
}

/**
 * Brings the object's tables up to this code's version, keeping what they hold, and records
 * the version: a woken object whose tables are current runs no schema statement at all (one
 * read of the synchronous KV API).
 */
export function migrate(storage: DurableObjectStorage): void {
  if ((storage.kv.get<number>(VERSION_KEY) ?? 0) >= SCHEMA_VERSION) return;
  storage.transactionSync(() => {
    toVersion1(storage.sql);
    storage.kv.put(VERSION_KEY, SCHEMA_VERSION);
  });
}

/** The tables were dropped (an erase): the next `migrate` creates them again. */
export function forgetSchema(storage: DurableObjectStorage): void {
  storage.kv.delete(VERSION_KEY);
}
