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
import { createApp, expectStatus, Failures, figures, initUsers, log, request, waitGroupGone } from "./lib.ts";

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
