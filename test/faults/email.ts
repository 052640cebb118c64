// Email crash: SIGKILL `wrangler dev` while users' messages wait in their conversations' outboxes
// for their emails, restart it on the same state, and check that each of those messages is
// emailed exactly once after the restart, and that no message emailed before the kill (recorded in
// D1's email_sent) is emailed again. The local explorer lists what the send_email binding sent.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signalGroup, startDevServer, type DevServer } from "../support/dev-server.ts";
import { accountJwt } from "../support/jwt.ts";
import { sleep } from "../support/pace.ts";
import { readOutboxJobs, readStateDatabases } from "../support/workerd.ts";
import { createApp, expectStatus, Failures, figures, freezeWhen, initUsers, log, request, waitGroupGone } from "./lib.ts";

const USERS = 12;
const LOAD_MS = 3_000;
const KILL_PROBES = 100;
const SEND_WAIT_MS = 45_000;
const QUIET_MS = 5_000;
const DOMAIN = "mail.parley.test";

const textOf = (userId: string, seq: number) => `email fault ${userId} #${seq}`;

/** The messages whose email jobs the outboxes hold on disk, with their texts (a post cut by the kill was never answered). */
const emailOutbox = (persistTo: string) =>
  new Map(readOutboxJobs<{ messageId: string; text: string }>(persistTo, "email").map((job) => [job.messageId, job.text]));

/** The messages D1 records as emailed. */
function emailedInD1(persistTo: string): Set<string> {
  const sent = new Set<string>();
  readStateDatabases(join(persistTo, "v3", "d1"), (db) => {
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'email_sent'").get()) return;
    for (const row of db.prepare("SELECT message_id FROM email_sent").all()) sent.add(String(row.message_id));
  });
  return sent;
}

/** How many emails this server sent for each message text (read from each email's body in the explorer). */
async function emailsByText(baseUrl: string): Promise<Map<string, number>> {
  const explorer = `${baseUrl}/cdn-cgi/local/explorer/api/local/email/sending`;
  const counts = new Map<string, number>();
  let cursor: string | undefined;
  do {
    const page = (await (await fetch(`${explorer}?per_page=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`)).json()) as {
      result: Array<{ messageId: string; worker: string }>;
      result_info?: { cursor?: string };
    };
    for (const email of page.result) {
      const body = JSON.stringify(await (await fetch(`${explorer}?email_id=${encodeURIComponent(email.messageId)}&worker=${email.worker}`)).json());
      const text = /email fault [^"\\]+? #\d+/.exec(body)?.[0];
      if (text) counts.set(text, (counts.get(text) ?? 0) + 1);
    }
    cursor = page.result.length > 0 ? page.result_info?.cursor : undefined;
  } while (cursor);
  return counts;
}

export async function emailCrash(): Promise<string[]> {
  const failures = new Failures();
  const persistTo = mkdtempSync(join(tmpdir(), "parley-faults-email-"));
  const vars = { EMAIL_DOMAIN: DOMAIN, EMAIL_RETRY_BASE_SECONDS: "1" };
  let server: DevServer | undefined;
  try {
    server = await startDevServer({ persistTo, vars });
    const account = server.account;
    let baseUrl = server.baseUrl;
    const app = await createApp(baseUrl, account, "faults email");
    await expectStatus(baseUrl, "POST", `/v1/apps/${app.appId}/integrations`, 201, {
      jwt: await accountJwt(account),
      body: { type: "email", to: ["support@business.example"] },
    });
    const users = await initUsers(baseUrl, app, "email", USERS);

    // Each user posts one message after another until the kill.
    const posted = new Map<string, string>();
    let stop = false;
    const load = Promise.all(
      users.map(async (user) => {
        for (let seq = 0; !stop; seq++) {
          const text = textOf(user.userId, seq);
          const outcome = await request(baseUrl, "POST", `/v1/appusers/${user.id}/messages`, { jwt: user.jwt, body: { role: "appUser", text }, timeoutMs: 15_000 });
          if (outcome.status === 201 && "json" in outcome) posted.set(outcome.json.message._id, text);
        }
      }),
    );
    await sleep(LOAD_MS);
    // Freeze, look at the disk, and kill once an outbox holds an email job (as crash.ts does).
    const probes = await freezeWhen(server.pid, () => emailOutbox(persistTo).size > 0, KILL_PROBES);
    signalGroup(server.pid, "SIGKILL");
    stop = true;
    failures.check(await waitGroupGone(server.pid), "the killed process group did not go away");
    await load;
    await server.stop();
    server = undefined;

    const heldAtCrash = emailOutbox(persistTo);
    const sentAtCrash = emailedInD1(persistTo);
    failures.check(heldAtCrash.size > 0, `no email job was in an outbox at the kill (${probes} probes)`);

    server = await startDevServer({ persistTo, vars, account });
    baseUrl = server.baseUrl;
    const restartedAt = Date.now();
    const textOfId = (id: string) => heldAtCrash.get(id) ?? posted.get(id);
    // Wait until every held message was emailed, then until nothing more comes.
    let counts = new Map<string, number>();
    let lastChange = Date.now();
    while (Date.now() - restartedAt < SEND_WAIT_MS) {
      const now = await emailsByText(baseUrl);
      if ([...now.values()].reduce((a, b) => a + b, 0) !== [...counts.values()].reduce((a, b) => a + b, 0)) lastChange = Date.now();
      counts = now;
      const allHeldSent = [...heldAtCrash.values()].every((text) => counts.has(text));
      if (allHeldSent && Date.now() - lastChange > QUIET_MS) break;
      await sleep(500);
    }

    const held = [...heldAtCrash.values()];
    const heldNotOnce = held.filter((text) => counts.get(text) !== 1);
    const resent = [...sentAtCrash].filter((id) => textOfId(id) && counts.has(textOfId(id)!));
    const twice = [...counts].filter(([, n]) => n > 1);
    failures.check(heldNotOnce.length === 0, `${heldNotOnce.length} of the ${held.length} messages the outboxes held at the kill were not emailed exactly once after the restart`);
    failures.check(resent.length === 0, `${resent.length} messages recorded as emailed before the kill were emailed again`);
    failures.check(twice.length === 0, `${twice.length} messages were emailed more than once after the restart`);

    const emailedAfter = [...counts.keys()].length;
    const lostInQueue = [...posted.keys()].filter((id) => !sentAtCrash.has(id) && !heldAtCrash.has(id) && !counts.has(posted.get(id)!)).length;
    await server.stop();
    server = undefined;
    figures([
      ["messages acknowledged before the kill", posted.size],
      ["recorded as emailed at the kill (email_sent)", sentAtCrash.size],
      ["email jobs in outboxes at the kill", heldAtCrash.size],
      ["emailed after the restart", emailedAfter],
      ["neither (in the local queue, which is memory only, at the kill)", lostInQueue],
    ]);
    if (lostInQueue > 0) log("wrangler dev's queue is memory only; Cloudflare Queues keep what they accepted across a crash");
  } catch (error) {
    failures.check(false, error instanceof Error ? (error.stack ?? error.message) : String(error));
  } finally {
    if (server) await server.stop();
    rmSync(persistTo, { recursive: true, force: true });
  }
  return failures.list;
}
