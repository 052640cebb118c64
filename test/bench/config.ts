// A copy of wrangler.toml for the benchmark: same worker and bindings, with rate limits that one
// load generator on one address cannot reach (production's would turn most requests into 429s).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, writeConfigCopy } from "../support/config-copy.ts";

export { ROOT };
export const BENCH_RATE_LIMIT = 1_000_000;

/** Writes the copy into `dir` and returns its path. */
export function writeBenchConfig(dir: string): string {
  return writeConfigCopy(dir, "wrangler.bench.toml", (original) => {
    let limits = 0;
    const text = original.replace(/simple\s*=\s*\{\s*limit\s*=\s*\d+/g, (match) => {
      limits++;
      return match.replace(/\d+$/, String(BENCH_RATE_LIMIT));
    });
    // Realtime's too: scenario 8 opens 1,000 sockets from one address.
    if (limits !== 5) throw new Error("wrangler.toml no longer has the five [[ratelimits]] limits the benchmark rewrites");
    return text;
  });
}

/** Users the floor's D1 read finds, each with its conversation object's name. */
export const FLOOR_USERS = 1_000;

/**
 * Users (and so conversation objects) a posting load is spread over, in Parley and in the floor.
 * The local runtime evicts an object 10 s after its last request (production keeps it 70 to 140
 * s): at 50 posts a second each of 250 objects still gets one every 5 s, so the loads measure
 * objects in memory, as production would have them, not the wake-up of an evicted object.
 */
export const SPREAD = 250;

/** A queue the floor sends to, consumed as Parley's webhook and index queues are (batches of up to 100, no wait). */
const queue = (binding: string, name: string) => `[[queues.producers]]
binding = "${binding}"
queue = "${name}"

[[queues.consumers]]
queue = "${name}"
max_batch_size = 100
max_batch_timeout = 0
`;

/**
 * The floor worker's config (test/bench/floor/worker.ts) and its one migration, in `dir`: a D1
 * table of FLOOR_USERS users, one of devices, one of delivered webhook ids, the tables of the
 * copy of Parley's conversation index (entries, messages and their full-text index) that F7 and
 * F8 read, and those the floor's own index feed writes (feed_*: conversations by activity,
 * messages, their full-text rows); a SQLite Durable Object class, two rate limiters (as high as
 * the benchmark's) and three queues consumed as Parley's webhook and index queues are (batches of
 * up to 100, no wait), the webhooks posting to `hookTarget`; on wrangler.toml's compatibility date.
 */
export function writeFloorConfig(dir: string, hookTarget: string): string {
  const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(readFileSync(join(ROOT, "wrangler.toml"), "utf8"))?.[1];
  if (!compatibilityDate) throw new Error("wrangler.toml has no compatibility_date");
  const migrations = join(dir, "floor-migrations");
  mkdirSync(migrations, { recursive: true });
  writeFileSync(
    join(migrations, "0001_users.sql"),
    `CREATE TABLE users (id TEXT PRIMARY KEY, conversation TEXT NOT NULL);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${FLOOR_USERS})
INSERT INTO users (id, conversation) SELECT 'u' || i, 'c' || i FROM n;
CREATE TABLE devices (id TEXT PRIMARY KEY, user_id TEXT NOT NULL);
CREATE TABLE delivered (id TEXT PRIMARY KEY);
CREATE TABLE conversations (id TEXT PRIMARY KEY, app_id TEXT NOT NULL, last_activity REAL NOT NULL, app_user TEXT NOT NULL, entry TEXT NOT NULL);
CREATE INDEX conversations_by_activity ON conversations (app_id, last_activity);
CREATE TABLE messages (seq INTEGER PRIMARY KEY, conversation TEXT NOT NULL, message TEXT NOT NULL);
CREATE VIRTUAL TABLE search USING fts5(app_id, body, content='');
CREATE TABLE feed_conversations (id TEXT PRIMARY KEY, app_id TEXT NOT NULL, last_activity REAL NOT NULL, last_message TEXT NOT NULL);
CREATE INDEX feed_conversations_by_activity ON feed_conversations (app_id, last_activity);
CREATE TABLE feed_messages (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, conversation TEXT NOT NULL, app_id TEXT NOT NULL, message TEXT NOT NULL);
CREATE VIRTUAL TABLE feed_search USING fts5(app_id, body, content='');
CREATE TRIGGER feed_messages_searchable AFTER INSERT ON feed_messages BEGIN
  INSERT INTO feed_search (rowid, app_id, body) VALUES (NEW.seq, NEW.app_id, json_extract(NEW.message, '$.text'));
END;
`,
  );
  const path = join(dir, "wrangler.floor.toml");
  writeFileSync(
    path,
    `name = "parley-floor"
main = ${JSON.stringify(join(ROOT, "test/bench/floor/worker.ts"))}
compatibility_date = "${compatibilityDate}"

[[d1_databases]]
binding = "DB"
database_name = "floor"
database_id = "00000000-0000-0000-0000-000000000000"
migrations_dir = ${JSON.stringify(migrations)}

[[durable_objects.bindings]]
name = "LOG"
class_name = "Log"

[[ratelimits]]
name = "CALLER_LIMIT"
namespace_id = "2001"
simple = { limit = ${BENCH_RATE_LIMIT}, period = 60 }

[[ratelimits]]
name = "APP_LIMIT"
namespace_id = "2002"
simple = { limit = ${BENCH_RATE_LIMIT}, period = 60 }

${queue("HOOKS", "floor-hooks")}
${queue("DURABLE_HOOKS", "floor-durable-hooks")}
${queue("INDEX_FEED", "floor-index")}

[vars]
HOOK_TARGET = ${JSON.stringify(hookTarget)}

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Log"]
`,
  );
  return path;
}
