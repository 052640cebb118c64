// Crash: SIGKILL `wrangler dev` under a steady load of message posts, restart it on the same
// state, and check that every acknowledged message survived exactly once and in order, and that
// every stored message's webhook delivery arrives or is accounted for. (The conversation index after
// a crash: index-crash.ts.)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevServer, type DevServer } from "../support/dev-server.ts";
import { sleep } from "../support/pace.ts";
import {
  allMessages,
  createApp,
  expectStatus,
  Failures,
  figures,
  freezeWhen,
  initUsers,
  killUnderLoad,
  log,
  postingLoad,
  WebhookTarget,
  type StoredMessage,
  type User,
} from "./lib.ts";
import { readConversations, readDeliveryLog } from "../support/workerd.ts";

const USERS = 24;
const CONCURRENCY = 8;
/** Load runs this long before the kill (and at least until MIN_ACKED posts were acknowledged). */
const LOAD_BEFORE_KILL_MS = 8_000;
const MIN_ACKED = 100;
/** Freeze-and-look attempts at finding the outbox non-empty before killing anyway. */
const KILL_PROBES = 50;
const MAX_LOAD_MS = 30_000;
const MAX_REQUESTS = 20_000;
/** How long the restarted server gets to deliver the webhooks of every stored message. */
const DELIVERY_WAIT_MS = 45_000;
/** Arrivals stopped this long: nothing more is coming. */
const QUIET_MS = 5_000;

const textOf = (user: User, seq: number) => `crash ${user.userId} #${seq}`;
const seqOf = (text: string) => Number(/#(\d+)$/.exec(text)?.[1] ?? NaN);

export async function crash(): Promise<string[]> {
  const failures = new Failures();
  const persistTo = mkdtempSync(join(tmpdir(), "parley-faults-crash-"));
  const target = new WebhookTarget();
  const vars = { WEBHOOK_ALLOW_PRIVATE_TARGETS: "true", WEBHOOK_RETRY_BASE_SECONDS: "1" };
  let server: DevServer | undefined;
  try {
    await target.listen(0);
    server = await startDevServer({ persistTo, vars });
    const account = server.account;
    let baseUrl = server.baseUrl;
    const app = await createApp(baseUrl, account, "faults crash");
    await expectStatus(baseUrl, "POST", "/v1/webhooks", 201, {
      jwt: app.appJwt,
      body: { target: target.url, triggers: ["message"] },
    });
    const users = await initUsers(baseUrl, app, "crash", USERS);

    const load = postingLoad(baseUrl, users, { concurrency: CONCURRENCY, maxMs: MAX_LOAD_MS, maxRequests: MAX_REQUESTS, textOf });
    const { posts, startedAt: loadStart } = load;

    await sleep(LOAD_BEFORE_KILL_MS);
    while (posts.filter((p) => p.status === 201).length < MIN_ACKED && Date.now() - loadStart < MAX_LOAD_MS) await sleep(100);
    // The outbox drains within milliseconds, so a kill at a random moment rarely finds it holding
    // anything. Freeze the group, look at the state on disk (what a crash now would leave), and
    // kill while frozen once the outbox holds deliveries; otherwise let it run a moment longer.
    const probes = await freezeWhen(server.pid, () => readConversations(persistTo).outboxByMessage.size > 0, KILL_PROBES);
    const inFlightAtKill = load.inFlight();
    const killedAt = await killUnderLoad(server, load, failures);
    server = undefined;
    const deliveredBeforeKill = target.delivered.filter((a) => a.at <= killedAt).length;

    // What the crash left on disk, before anything touches it again.
    const atCrash = readConversations(persistTo);

    server = await startDevServer({ persistTo, vars, account });
    baseUrl = server.baseUrl;
    const restartedAt = Date.now();

    const acked = posts.filter((p) => p.status === 201);
    const unanswered = posts.filter((p) => p.status === 0);
    const refused = posts.filter((p) => p.status !== 201 && p.status !== 0);
    failures.check(refused.length === 0, `${refused.length} posts answered with an error status before the kill: ${[...new Set(refused.map((p) => p.status))].join(", ")}`);
    failures.check(inFlightAtKill > 0, "no post was in flight at the kill: the crash did not happen mid-run");

    // Messages: every acknowledged one exactly once, in the order of its user's posts.
    const stored = new Map<string, StoredMessage>();
    let storedUnacked = 0;
    let duplicates = 0;
    let misordered = 0;
    let missing = 0;
    for (const user of users) {
      const messages = await allMessages(baseUrl, user);
      const ids = new Set(messages.map((m) => m._id));
      const texts = new Set(messages.map((m) => m.text));
      duplicates += messages.length - ids.size + (messages.length - texts.size);
      for (let i = 1; i < messages.length; i++) {
        if (!(messages[i].received > messages[i - 1].received) || !(seqOf(messages[i].text) > seqOf(messages[i - 1].text))) misordered++;
      }
      const mine = posts.filter((p) => p.user === user);
      const byText = new Map(mine.map((p) => [p.text, p]));
      for (const message of messages) {
        stored.set(message._id, message);
        const post = byText.get(message.text);
        if (!post) failures.check(false, `${user.userId}: stored message '${message.text}' was never posted`);
        else if (post.status === 0) storedUnacked++;
        else if (post.status !== 201) failures.check(false, `${user.userId}: '${message.text}' was refused (${post.status}) yet stored`);
        else failures.check(post.id === message._id, `${user.userId}: '${message.text}' stored as ${message._id}, acknowledged as ${post.id}`);
      }
      for (const post of mine) if (post.status === 201 && !ids.has(post.id!)) missing++;
    }
    failures.check(missing === 0, `${missing} acknowledged messages are missing after the restart`);
    failures.check(duplicates === 0, `${duplicates} duplicated messages (by _id or text)`);
    failures.check(misordered === 0, `${misordered} messages out of order (received or post order)`);
    const lostOnDisk = acked.filter((p) => !atCrash.messageIds.has(p.id!)).length;
    failures.check(lostOnDisk === 0, `${lostOnDisk} acknowledged messages were not on disk right after the kill`);
    failures.check(
      atCrash.messageIds.size === stored.size && [...stored.keys()].every((id) => atCrash.messageIds.has(id)),
      `the restarted server shows ${stored.size} messages, the state on disk held ${atCrash.messageIds.size}`,
    );

    // Webhooks: every stored message's delivery reaches the target, unless the local queue
    // (memory only) held it at the kill.
    // After the restart only the outbox can send anything (the queue starts empty), so the wait
    // ends once every delivery the outbox held has arrived and arrivals have stopped.
    const deadline = Date.now() + DELIVERY_WAIT_MS;
    const undelivered = () => [...stored.keys()].filter((id) => !target.deliveredIds().has(id));
    const outboxSettled = () =>
      [...atCrash.outboxByMessage.keys()].every((id) => target.deliveredIds().has(id)) &&
      Date.now() - Math.max(restartedAt, ...target.delivered.map((a) => a.at)) > QUIET_MS;
    while (undelivered().length > 0 && !outboxSettled() && Date.now() < deadline) await sleep(250);
    const notArrived = undelivered();
    const outboxAtCrash = [...atCrash.outboxByMessage.keys()];
    const outboxArrived = outboxAtCrash.filter((id) => target.deliveredIds().has(id));
    const droppedByOutbox = notArrived.filter((id) => atCrash.outboxByMessage.has(id));
    const lostInQueue = notArrived.filter((id) => !atCrash.outboxByMessage.has(id));
    const strangers = target.delivered.filter((a) => !stored.has(a.messageId));
    const idsPerMessage = new Map<string, Set<string>>();
    for (const a of target.delivered) idsPerMessage.set(a.messageId, (idsPerMessage.get(a.messageId) ?? new Set()).add(a.deliveryId));
    const splitDeliveries = [...idsPerMessage.values()].filter((ids) => ids.size > 1).length;
    const lastArrival = Math.max(0, ...target.delivered.map((a) => a.at));
    failures.check(droppedByOutbox.length === 0, `${droppedByOutbox.length} deliveries the outbox held at the kill never arrived after the restart`);
    failures.check(strangers.length === 0, `${strangers.length} deliveries for messages that are not stored`);
    failures.check(splitDeliveries === 0, `${splitDeliveries} messages were delivered under more than one delivery id (one webhook)`);

    await server.stop();
    server = undefined;
    const deliveryLog = new Map(readDeliveryLog(persistTo).map((row) => [row.message_id, row]));
    const killAge = (id: string) => killedAt - stored.get(id)!.received * 1000;

    figures([
      ["users, concurrency", `${USERS}, ${CONCURRENCY}`],
      ["posts sent before the kill", posts.length],
      ["acknowledged (201)", acked.length],
      ["in flight at the kill (no answer)", `${inFlightAtKill} (${unanswered.length} unanswered)`],
      ["kill after", `${((killedAt - loadStart) / 1000).toFixed(1)} s of load, SIGKILL while frozen at probe ${probes} of ${KILL_PROBES}`],
      ["stored after restart", `${stored.size} (${storedUnacked} of them unanswered posts that the kill cut off)`],
      ["acknowledged missing / duplicated / misordered", `${missing} / ${duplicates} / ${misordered}`],
      ["webhook deliveries arrived before the kill", deliveredBeforeKill],
      ["outbox at the kill (pending deliveries)", `${outboxAtCrash.length}, arrived after restart: ${outboxArrived.length}`],
      ["stored messages delivered", `${stored.size - notArrived.length} of ${stored.size}`],
      ["last delivery after restart", lastArrival > restartedAt ? `${((lastArrival - restartedAt) / 1000).toFixed(1)} s` : "none after restart"],
      ["duplicate arrivals (at least once)", target.delivered.length - target.deliveredIds().size],
    ]);
    if (lostInQueue.length > 0) {
      const ages = lostInQueue.map(killAge);
      const logged = lostInQueue.map((id) => deliveryLog.get(id)?.outcome ?? "no attempt logged");
      const outcomes = Object.entries(Object.groupBy(logged, (o) => o)).map(([o, list]) => `${o}: ${list!.length}`);
      log(
        `NOTE: ${lostInQueue.length} deliveries had left the outbox for the local queue before the kill and were lost ` +
          `with the queue's in-memory state (the simulator's, not the outbox's); their messages were stored ` +
          `${(Math.min(...ages) / 1000).toFixed(1)}-${(Math.max(...ages) / 1000).toFixed(1)} s before the kill; delivery log: ${outcomes.join(", ")}`,
      );
    }
    if (outboxAtCrash.length === 0) log("NOTE: the outbox was empty at the kill, so no delivery had to be resent from it after the restart");
  } finally {
    await server?.stop();
    await target.close();
    rmSync(persistTo, { recursive: true, force: true });
  }
  return failures.list;
}
