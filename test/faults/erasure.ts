// Erasure: delete an app with many users, SIGKILL `wrangler dev` while its AppEraser works through
// them, restart on the same state, and check that the erasure resumes by itself to completion:
// no row of the app left in D1, no message of its users in any Conversation object, and its
// credentials refused throughout.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { signalGroup, startDevServer, type DevServer } from "../support/dev-server.ts";
import { sleep } from "../support/pace.ts";
import { accountJwt, bearer } from "../support/jwt.ts";
import { readConversations, readStateDatabases } from "../support/workerd.ts";
import { createApp, expectStatus, Failures, figures, initUsers, log, request, waitGroupGone, WebhookTarget } from "./lib.ts";

const USERS = 300;
/** How long the eraser runs before the kill: long enough to be midway, far from done. */
const KILL_AFTER_MS = 400;
/** How long the restarted server gets to finish the erasure. */
const RESUME_WAIT_MS = 90_000;

/** The app's rows left in D1: its own, its users', its keys'. */
function rowsLeft(persistTo: string, appId: string): { app: number; users: number; keys: number } {
  const counts = readStateDatabases(join(persistTo, "v3", "d1"), (db: DatabaseSync) => {
    const has = (table: string) => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
    if (!has("apps")) return null;
    const count = (sql: string) => Number((db.prepare(sql).get(appId) as { n: number }).n);
    return {
      app: count("SELECT COUNT(*) AS n FROM apps WHERE id = ?"),
      users: count("SELECT COUNT(*) AS n FROM app_users WHERE app_id = ?"),
      keys: count("SELECT COUNT(*) AS n FROM app_keys WHERE app_id = ?"),
    };
  }).filter((c) => c !== null);
  return counts[0] ?? { app: 0, users: 0, keys: 0 };
}

export async function erasure(): Promise<string[]> {
  const failures = new Failures();
  const persistTo = mkdtempSync(join(tmpdir(), "parley-faults-erasure-"));
  let server: DevServer | undefined;
  try {
    server = await startDevServer({ persistTo });
    const account = server.account;
    let baseUrl = server.baseUrl;
    const app = await createApp(baseUrl, account, "faults erasure");
    const users = await initUsers(baseUrl, app, "erasure", USERS);
    const posted = new Set<string>();
    for (let i = 0; i < users.length; i += 16) {
      await Promise.all(
        users.slice(i, i + 16).map(async (user) => {
          const json = await expectStatus(baseUrl, "POST", `/v1/appusers/${user.id}/messages`, 201, { jwt: user.jwt, body: { role: "appUser", text: "to be erased" } });
          posted.add(json.message._id);
        }),
      );
    }
    log(`${users.length} users with a message each; deleting the app`);

    const accountAuth = bearer(await accountJwt(account));
    const deleted = await fetch(`${baseUrl}/v1/apps/${app.appId}`, { method: "DELETE", headers: accountAuth });
    failures.check(deleted.status === 200, `DELETE answered ${deleted.status}`);
    await sleep(KILL_AFTER_MS);
    signalGroup(server.pid, "SIGKILL");
    failures.check(await waitGroupGone(server.pid), "the killed process group did not go away");
    await server.stop();
    const atKill = rowsLeft(persistTo, app.appId);
    log(`killed ${KILL_AFTER_MS} ms after the DELETE: ${atKill.users} of ${USERS} users left`);
    failures.check(atKill.keys === 0, "the app's keys outlived the DELETE's transaction");

    server = await startDevServer({ persistTo, account });
    baseUrl = server.baseUrl;
    const refused = await request(baseUrl, "GET", `/v1/appusers/${users[USERS - 1].id}`, { jwt: users[USERS - 1].jwt });
    failures.check(refused.status === 401, `a user's JWT of the deleted app answered ${refused.status}`);

    const started = Date.now();
    let left = rowsLeft(persistTo, app.appId);
    while ((left.app > 0 || left.users > 0) && Date.now() - started < RESUME_WAIT_MS) {
      await sleep(1000);
      left = rowsLeft(persistTo, app.appId);
    }
    const resumedIn = Date.now() - started;
    failures.check(left.app === 0 && left.users === 0, `after ${RESUME_WAIT_MS} ms the erasure had not finished: ${JSON.stringify(left)}`);
    const { messageIds } = readConversations(persistTo);
    const survivors = [...posted].filter((id) => messageIds.has(id));
    failures.check(survivors.length === 0, `${survivors.length} messages of the deleted app survive in their objects`);
    figures([
      ["users at the DELETE", USERS],
      ["users left at the kill", atKill.users],
      ["erasure finished after the restart in (ms)", left.users === 0 ? resumedIn : "no"],
      ["messages left in objects", survivors.length],
    ]);
    await server.stop();
    server = undefined;
  } finally {
    await server?.stop();
    rmSync(persistTo, { recursive: true, force: true });
  }
  return failures.list;
}

const RACE_USERS = 12;
const RACE_POSTS = 6;
const RACE_UPLOADS = 3;
/** A delivery this long after its user's deletion answered would be one that outlived the erase. */
const LATE_DELIVERY_MS = 2000;
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 1]);

/** The R2 objects on disk whose custom metadata names one of these app users. */
function r2ObjectsOf(persistTo: string, appUserIds: Set<string>): string[] {
  return readStateDatabases(join(persistTo, "v3", "r2"), (db: DatabaseSync) => {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((row) => String(row.name));
    const found: string[] = [];
    for (const table of tables) {
      const columns = db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all().map((row) => String(row.name));
      if (!columns.includes("custom_metadata") || !columns.includes("key")) continue;
      for (const row of db.prepare(`SELECT key, custom_metadata FROM "${table}"`).all()) {
        const metadata = JSON.parse(String(row.custom_metadata ?? "{}")) as { appUserId?: string };
        if (metadata.appUserId && appUserIds.has(metadata.appUserId)) found.push(String(row.key));
      }
    }
    return found;
  }).flat();
}

/** How many rows of these app users D1 still holds: users and device links. */
function d1RowsOf(persistTo: string, appUserIds: string[]): number {
  return readStateDatabases(join(persistTo, "v3", "d1"), (db: DatabaseSync) => {
    if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'app_users'").get() === undefined) return 0;
    const ids = JSON.stringify(appUserIds);
    const count = (sql: string) => Number((db.prepare(sql).get(ids) as { n: number }).n);
    return (
      count("SELECT COUNT(*) AS n FROM app_users WHERE id IN (SELECT value FROM json_each(?))") +
      count("SELECT COUNT(*) AS n FROM device_users WHERE app_user_id IN (SELECT value FROM json_each(?))")
    );
  }).reduce((a, b) => a + b, 0);
}

// Erasure under load: posts and image uploads race each user's deletion. Every request answers
// 201 (and is then erased) or 404; afterwards nothing of the users is left in D1, the
// Conversation objects, R2 or the queues (no webhook delivery after the deletion answered).
export async function erasureRace(): Promise<string[]> {
  const failures = new Failures();
  const persistTo = mkdtempSync(join(tmpdir(), "parley-faults-erasure-race-"));
  const target = new WebhookTarget();
  let server: DevServer | undefined;
  try {
    await target.listen(0);
    server = await startDevServer({ persistTo, vars: { WEBHOOK_ALLOW_PRIVATE_TARGETS: "true" } });
    const { baseUrl } = server;
    const app = await createApp(baseUrl, server.account, "faults erasure race");
    await expectStatus(baseUrl, "POST", "/v1/webhooks", 201, { jwt: app.appJwt, body: { target: target.url, triggers: ["message:appUser"] } });
    const users = await initUsers(baseUrl, app, "erasure-race", RACE_USERS);
    const statuses = new Map<number, number>();
    const acceptedBy = new Map<string, string>();
    const deletedAt = new Map<string, number>();

    await Promise.all(
      users.map(async (user) => {
        // The business's credential: a deleted user is then a 404 (an appUser JWT of a user that
        // no longer exists is a 403, as for any user not its own).
        // Spread over the deletion's own start, so that some land before the erase mark and some after.
        const post = async () => {
          await sleep(Math.random() * 120);
          return request(baseUrl, "POST", `/v1/appusers/${user.id}/messages`, { jwt: app.appJwt, body: { role: "appUser", text: "racing" } });
        };
        const upload = async () => {
          await sleep(Math.random() * 120);
          const form = new FormData();
          form.append("source", new File([PNG], "image.png", { type: "image/png" }));
          form.append("role", "appUser");
          return request(baseUrl, "POST", `/v1/appusers/${user.id}/images`, { jwt: app.appJwt, form });
        };
        const erase = async () => {
          await sleep(20 + Math.random() * 60);
          const outcome = await request(baseUrl, "DELETE", `/v1/appusers/${user.id}`, { jwt: app.appJwt });
          failures.check(outcome.status === 200, `DELETE of ${user.id} answered ${outcome.status}`);
          deletedAt.set(user.id, Date.now());
        };
        const [, ...outcomes] = await Promise.all([erase(), ...Array.from({ length: RACE_POSTS }, post), ...Array.from({ length: RACE_UPLOADS }, upload)]);
        for (const outcome of outcomes) {
          statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
          if (outcome.status === 201) acceptedBy.set(outcome.json.message._id, user.id);
        }
      }),
    );
    const odd = [...statuses].filter(([status]) => status !== 201 && status !== 404);
    failures.check(odd.length === 0, `requests answered other than 201 or 404: ${JSON.stringify(odd)}`);
    // Queue consumers and alarms finish what they started.
    await sleep(3000);

    const ids = users.map((user) => user.id);
    failures.check(d1RowsOf(persistTo, ids) === 0, "D1 still holds rows of the deleted users");
    const { messageIds, outboxByMessage } = readConversations(persistTo);
    const survivors = [...acceptedBy.keys()].filter((id) => messageIds.has(id) || outboxByMessage.has(id));
    failures.check(survivors.length === 0, `${survivors.length} accepted messages (or their outbox jobs) survive the deletion`);
    const images = r2ObjectsOf(persistTo, new Set(ids));
    failures.check(images.length === 0, `${images.length} images of the deleted users are left in R2`);
    const late = target.delivered.filter((arrival) => {
      const owner = acceptedBy.get(arrival.messageId);
      return owner === undefined || arrival.at > deletedAt.get(owner)! + LATE_DELIVERY_MS;
    });
    failures.check(late.length === 0, `${late.length} webhook deliveries of a refused message, or more than ${LATE_DELIVERY_MS} ms after the deletion answered`);
    figures([
      ["users deleted while posting", RACE_USERS],
      ["requests answered 201 (then erased)", statuses.get(201) ?? 0],
      ["requests answered 404", statuses.get(404) ?? 0],
      ["webhook deliveries (none more than 2 s after its deletion answered)", target.delivered.length],
      ["messages, jobs, images, D1 rows left", survivors.length + images.length + d1RowsOf(persistTo, ids)],
    ]);
    await server.stop();
    server = undefined;
  } finally {
    await server?.stop();
    await target.close();
    rmSync(persistTo, { recursive: true, force: true });
  }
  return failures.list;
}
