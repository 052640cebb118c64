// Push provider outage: FCM answers 503 for a few seconds while the business keeps replying, then
// comes back. Every reply must reach its device at least once. One device's token stays refused:
// its push must use up its retries and land in the dead-letter queue, recorded in push_failures
// with the provider's reason. Runs on a copy of wrangler.toml with 3 push retries (not 8), so
// that the dead letter comes within seconds at the 1 s base.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeConfigCopy } from "../support/config-copy.ts";
import { freePorts, startDevServer, type DevServer } from "../support/dev-server.ts";
import { FcmFake, serviceAccountFile } from "../support/fcm-fake.ts";
import { httpSend } from "../support/http.ts";
import { accountJwt, bearer } from "../support/jwt.ts";
import { sleep } from "../support/pace.ts";
import { initUser } from "../support/users.ts";
import { readStateDatabases } from "../support/workerd.ts";
import { createApp, expectStatus, Failures, figures, request } from "./lib.ts";

const USERS = 6;
const OUTAGE_MS = 5_000;
const REPLY_EVERY_MS = 250;
/** Retries after 1, 2 and 4 s: the last 7 s after the first attempt, past the outage's end. */
const RETRIES = 3;
const WAIT_MS = 45_000;

interface Reply {
  messageId: string;
  token: string;
  phase: "before" | "outage" | "after" | "dead";
}

/** The push_failures row of a message, read from the local D1 state. */
function failureOf(persistTo: string, messageId: string): { outcome: string; attempts: number; last_status: number | null; last_error: string | null } | undefined {
  return readStateDatabases(join(persistTo, "v3", "d1"), (db) => {
    const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'push_failures'").get() !== undefined;
    return has ? (db.prepare("SELECT outcome, attempts, last_status, last_error FROM push_failures WHERE message_id = ?").get(messageId) as any) : undefined;
  }).find(Boolean);
}

export async function pushOutage(): Promise<string[]> {
  const failures = new Failures();
  const dir = mkdtempSync(join(tmpdir(), "parley-faults-push-"));
  const [fcmPort] = await freePorts(1);
  const fake = new FcmFake(fcmPort);
  let server: DevServer | undefined;
  try {
    await fake.listen();
    const config = writeConfigCopy(dir, "wrangler.push-outage.toml", (text) => {
      const edited = text.replace(/(queue = "parley-push"\n(?:.*\n)*?max_retries = )\d+/, `$1${RETRIES}`);
      if (edited === text) throw new Error("wrangler.toml no longer has the parley-push consumer's max_retries");
      return edited;
    });
    server = await startDevServer({
      config,
      vars: { PUSH_RETRY_BASE_SECONDS: "1", FCM_API_URL: fake.apiUrl, GOOGLE_TOKEN_URL: fake.tokenUrl },
    });
    const { baseUrl, persistTo } = server;
    const app = await createApp(baseUrl, server.account, "faults push outage");
    await expectStatus(baseUrl, "POST", `/v1/apps/${app.appId}/integrations`, 201, {
      jwt: await accountJwt(server.account),
      body: { type: "fcm", serviceAccount: serviceAccountFile("parley-faults") },
    });
    const send = httpSend(baseUrl);
    const users = await Promise.all(
      Array.from({ length: USERS + 1 }, async (_, i) => {
        const userId = `push-outage-${i}`;
        const token = `fcm-token-${i}`;
        const appUser = await initUser(send, bearer(await app.userJwt(userId)), { id: `phone-${i}`, platform: "android", pushNotificationToken: token }, userId);
        return { id: appUser._id as string, token };
      }),
    );
    const dead = users.pop()!;

    const replies: Reply[] = [];
    let refusedPosts = 0;
    const reply = async (user: { id: string; token: string }, phase: Reply["phase"]) => {
      const outcome = await request(baseUrl, "POST", `/v1/appusers/${user.id}/messages`, {
        jwt: app.appJwt,
        body: { role: "appMaker", text: `push ${phase} #${replies.length}` },
      });
      if (outcome.status === 201 && "json" in outcome) replies.push({ messageId: outcome.json.message._id, token: user.token, phase });
      else refusedPosts++;
    };
    const arrived = (r: Reply) => fake.pushes.some((push) => push.token === r.token && JSON.stringify(push.body).includes(r.messageId));
    const waitArrived = async (ms: number) => {
      const deadline = Date.now() + ms;
      while (replies.some((r) => r.phase !== "dead" && !arrived(r)) && Date.now() < deadline) await sleep(250);
    };

    for (const user of users) await reply(user, "before");
    await waitArrived(20_000);
    failures.check(replies.every(arrived), "pushes did not arrive before the outage");

    fake.down = { status: 503 };
    const downAt = Date.now();
    while (Date.now() - downAt < OUTAGE_MS) {
      await reply(users[replies.length % users.length], "outage");
      await sleep(REPLY_EVERY_MS);
    }
    fake.down = null;
    const upAt = Date.now();
    fake.script(dead.token, ...Array.from({ length: RETRIES + 1 }, () => ({ status: 503 })));
    await reply(dead, "dead");
    for (const user of users) await reply(user, "after");
    await waitArrived(WAIT_MS);

    const missing = replies.filter((r) => r.phase !== "dead" && !arrived(r));
    const retried = replies.filter((r) => r.phase === "outage" && fake.refused.some((push) => JSON.stringify(push.body).includes(r.messageId)));
    failures.check(refusedPosts === 0, `${refusedPosts} replies were not acknowledged`);
    failures.check(missing.length === 0, `${missing.length} pushes never arrived (${missing.map((r) => r.phase).join(", ")})`);
    failures.check(retried.length > 0, "no push was refused during the outage: it did not exercise retries");

    // The dead token: first attempt plus every retry refused, then the dead-letter queue's record.
    const deadReply = replies.find((r) => r.phase === "dead")!;
    const deadline = Date.now() + WAIT_MS;
    let record = failureOf(persistTo, deadReply.messageId);
    while (record?.outcome !== "failed" && Date.now() < deadline) {
      await sleep(500);
      record = failureOf(persistTo, deadReply.messageId);
    }
    const deadAttempts = fake.refused.filter((push) => push.token === dead.token).length;
    failures.check(record?.outcome === "failed", `the refused push was not recorded as failed (${JSON.stringify(record)})`);
    failures.check(Boolean(record?.last_error), "the failed push's record has no reason");
    failures.check(deadAttempts === RETRIES + 1, `the refused push was tried ${deadAttempts} times, not ${RETRIES + 1}`);
    failures.check(!fake.pushes.some((push) => push.token === dead.token), "the refused push arrived anyway");

    const arrivals = replies.filter((r) => r.phase === "outage").map((r) => Math.min(...fake.pushes.filter((p) => JSON.stringify(p.body).includes(r.messageId)).map((p) => p.at)));
    const count = (phase: Reply["phase"]) => replies.filter((r) => r.phase === phase).length;
    figures([
      ["outage", `${((upAt - downAt) / 1000).toFixed(1)} s of 503 from FCM`],
      ["retry delays", `1 s base: 1, 2, 4 s (${RETRIES} retries in this copy of wrangler.toml)`],
      ["replies before / during / after", `${count("before")} / ${count("outage")} / ${count("after")}`],
      ["attempts refused during the outage", fake.refused.length - deadAttempts],
      ["pushes arrived", `${replies.length - 1 - missing.length} of ${replies.length - 1}`],
      ["all outage pushes in, after FCM up", `${((Math.max(...arrivals) - upAt) / 1000).toFixed(1)} s`],
      ["duplicate arrivals (at least once)", fake.pushes.length - new Set(fake.pushes.map((p) => JSON.stringify(p.body))).size],
      ["dead token", `${deadAttempts} attempts, then recorded ${record?.outcome ?? "nothing"}: ${record?.last_error ?? "-"}`],
    ]);
  } finally {
    await server?.stop();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return failures.list;
}
