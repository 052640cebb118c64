// Index crash: SIGKILL `wrangler dev` under a steady load of posts, at a moment the outbox on disk
// holds conversation-index jobs, restart it on the same state, and check through the API that every
// acknowledged message is in the conversation index within a bounded wait: found by search, and
// each conversation's newest message its lastMessage in the list.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevServer, type DevServer } from "../support/dev-server.ts";
import { sleep } from "../support/pace.ts";
import { readConversations, readIndexedMessages } from "../support/workerd.ts";
import { allMessages, createApp, expectStatus, Failures, figures, freezeWhen, initUsers, killUnderLoad, log, postingLoad, type User } from "./lib.ts";

const USERS = 24;
const CONCURRENCY = 8;
const LOAD_BEFORE_KILL_MS = 6_000;
const MIN_ACKED = 100;
const KILL_PROBES = 100;
/** The load stops after this long, killed or not: long enough for the probes to run under it. */
const MAX_LOAD_MS = 60_000;
/** Each user's messages fit one page of search results (100), with room for the unanswered. */
const MAX_REQUESTS = USERS * 90;
/**
 * The bound: the outbox's safety-net alarm sends what a crash left in it within 30 s of the
 * write (src/conversation/object/conversation.ts), and the index consumer takes a batch within
 * a second of its queueing.
 */
const INDEX_WAIT_MS = 45_000;
const PREFIX = "index-crash";

/** A word of its own per user (`k7x`): a prefix of no other user's, so a search for it finds that user's messages only. */
const wordOf = (user: User) => `k${user.index}x`;
const textOf = (user: User, seq: number) => `${PREFIX} ${wordOf(user)} m${seq}`;

export async function indexCrash(): Promise<string[]> {
  const failures = new Failures();
  const persistTo = mkdtempSync(join(tmpdir(), "parley-faults-index-"));
  let server: DevServer | undefined;
  try {
    server = await startDevServer({ persistTo });
    const account = server.account;
    let baseUrl = server.baseUrl;
    const app = await createApp(baseUrl, account, "faults index crash");
    const users = await initUsers(baseUrl, app, PREFIX, USERS);

    const load = postingLoad(baseUrl, users, { concurrency: CONCURRENCY, maxMs: MAX_LOAD_MS, maxRequests: MAX_REQUESTS, textOf });
    const { posts } = load;
    const acknowledged = () => posts.filter((p) => p.status === 201).length;
    await sleep(LOAD_BEFORE_KILL_MS);
    while (acknowledged() < MIN_ACKED && Date.now() - load.startedAt < MAX_LOAD_MS) await sleep(100);
    // Frozen, the state on disk is what a kill now leaves: kill once the outbox holds the index job
    // of an acknowledged message (the drain runs beside the 201, so now and then it comes first),
    // or after half the probes any index job.
    let loadEnded = false;
    void load.done.then(() => (loadEnded = true));
    let looks = 0;
    const killNow = () => {
      looks++;
      const held = [...readConversations(persistTo).indexOutbox];
      const acked = new Set(posts.filter((p) => p.status === 201).map((p) => p.id!));
      return loadEnded || (held.length > 0 && (looks > KILL_PROBES / 2 || held.some((id) => acked.has(id))));
    };
    const probes = await freezeWhen(server.pid, killNow, KILL_PROBES);
    const atKill = readConversations(persistTo);
    const indexedAtKill = readIndexedMessages(persistTo);
    const killedAt = await killUnderLoad(server, load, failures);
    server = undefined;
    failures.check(atKill.indexOutbox.size > 0, `no index job was in the outbox in ${probes} probes: the kill did not fall between a message and its indexing`);

    server = await startDevServer({ persistTo, account });
    baseUrl = server.baseUrl;
    const restartedAt = Date.now();
    const acked = posts.filter((p) => p.status === 201);
    const refused = posts.filter((p) => p.status !== 201 && p.status !== 0);
    failures.check(refused.length === 0, `${refused.length} posts answered with an error status before the kill: ${[...new Set(refused.map((p) => p.status))].join(", ")}`);
    // Each user's newest stored message, which its list entry must show (an unanswered post the kill cut off may be it).
    const newest = new Map<string, string>();
    const stored = new Set<string>();
    for (const user of users) {
      const messages = await allMessages(baseUrl, user);
      for (const message of messages) stored.add(message._id);
      if (messages.length > 0) newest.set(user.id, messages[messages.length - 1]._id);
    }
    // Jobs the local queue held at the kill are lost with it (the simulator keeps its queues in
    // memory; Cloudflare Queues keep a message once its send returned): stored, out of the outbox,
    // not yet indexed. Every other acknowledged message must reach the index.
    const inLocalQueue = (id: string) => atKill.messageIds.has(id) && !atKill.indexOutbox.has(id) && !indexedAtKill.has(id);
    const expected = new Set(acked.map((p) => p.id!).filter((id) => !inLocalQueue(id)));
    const heldAcked = acked.filter((p) => atKill.indexOutbox.has(p.id!)).length;

    // Through the API: each user's messages found by search, and the list's lastMessage of each conversation.
    const found = new Set<string>();
    const lastMessages = new Map<string, string>();
    const look = async () => {
      for (const user of users) {
        const { results, hasMore } = await expectStatus(baseUrl, "GET", `/v1/conversations/search?q=${wordOf(user)}&limit=100`, 200, { jwt: app.appJwt });
        if (hasMore) throw new Error(`search: ${user.userId} has more than a page of messages`);
        for (const hit of results as { appUser: { _id: string }; message: { _id: string } }[]) {
          if (hit.appUser._id === user.id) found.add(hit.message._id);
        }
      }
      const { conversations } = await expectStatus(baseUrl, "GET", "/v1/conversations?limit=100", 200, { jwt: app.appJwt });
      for (const entry of conversations) lastMessages.set(entry.appUser._id, entry.lastMessage?._id);
    };
    const unseen = () => [...expected].filter((id) => !found.has(id));
    const staleEntries = () => [...newest].filter(([user, id]) => !inLocalQueue(id) && lastMessages.get(user) !== id);
    const deadline = restartedAt + INDEX_WAIT_MS;
    let complete = false;
    do {
      await look();
      complete = unseen().length === 0 && staleEntries().length === 0;
      if (!complete) await sleep(500);
    } while (!complete && Date.now() < deadline);
    const settledAfterMs = Date.now() - restartedAt;

    failures.check(unseen().length === 0, `${unseen().length} acknowledged messages not found by search ${INDEX_WAIT_MS / 1000} s after the restart`);
    failures.check(
      staleEntries().length === 0,
      `${staleEntries().length} conversations whose lastMessage in the list is not their newest message ${INDEX_WAIT_MS / 1000} s after the restart`,
    );
    const strangers = [...found].filter((id) => !stored.has(id));
    failures.check(strangers.length === 0, `${strangers.length} messages found by search that were never stored`);

    const lost = acked.filter((p) => inLocalQueue(p.id!)).length;
    figures([
      ["users, concurrency", `${USERS}, ${CONCURRENCY}`],
      ["posts sent, acknowledged", `${posts.length}, ${acked.length}`],
      ["kill after", `${((killedAt - load.startedAt) / 1000).toFixed(1)} s of load, SIGKILL while frozen at probe ${probes} of ${KILL_PROBES}`],
      ["acknowledged and indexed at the kill", acked.filter((p) => indexedAtKill.has(p.id!)).length],
      ["index jobs in the outbox at the kill (acknowledged)", `${atKill.indexOutbox.size} (${heldAcked})`],
      ["acknowledged, found by search after the restart", `${acked.filter((p) => found.has(p.id!)).length} of ${acked.length}`],
      ["conversations showing their newest message", `${newest.size - staleEntries().length} of ${newest.size}`],
      ["index complete after the restart", complete ? `${(settledAfterMs / 1000).toFixed(1)} s` : `not within ${INDEX_WAIT_MS / 1000} s`],
    ]);
    if (lost > 0) {
      log(
        `NOTE: ${lost} acknowledged messages' index jobs had left the outbox for the local queue before the kill and were lost with ` +
          "the queue's in-memory state (the simulator's; Cloudflare Queues keep them): not expected in the index",
      );
    }
  } finally {
    await server?.stop();
    rmSync(persistTo, { recursive: true, force: true });
  }
  return failures.list;
}
