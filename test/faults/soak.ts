// Soak: two minutes of mixed traffic (init, profile updates, message posts, conversation and
// message reads, image uploads) at a fixed concurrency. No 5xx, workerd's memory stays within a
// bound, and the final state is what the load generator was acknowledged.
import { startDevServer, type DevServer } from "../support/dev-server.ts";
import { sleep } from "../support/pace.ts";
import { isWorkerRuntime, openInspector, workerdRss } from "../support/workerd.ts";
import {
  allMessages,
  createApp,
  Failures,
  figures,
  initUsers,
  log,
  mb,
  request,
  quantile,
  type Outcome,
  type User,
} from "./lib.ts";

const DURATION_MS = 120_000;
const CONCURRENCY = 12;
/** Enough users that none comes near its 300 requests per minute (RATE_LIMITER). */
const USERS = 96;
const MAX_REQUESTS = 100_000;
const SAMPLE_EVERY_MS = 1_000;
const MB = 1024 * 1024;
/** The worker's live memory is measured this often (a heap snapshot stalls the worker ~1 s). */
const HEAP_EVERY_MS = 15_000;
/**
 * The worker's memory: what its isolate holds after a full collection (JS heap, embedder objects,
 * ArrayBuffer backing stores), the last third's peak against the first third's. It stays flat
 * at about 6 MB; a wrapper entry leaking 2 KB per request went from 10 to 20 MB and failed it.
 */
const HEAP_BOUND = { ratio: 1.1, plus: 4 * MB };
/**
 * workerd's resident memory: a guard against gross leaks only. wrangler dev's runtime grows its
 * RSS with the requests it serves even on a trivial route that touches no storage while the
 * worker's heap stays flat (a run of 13,800 requests went from 952 MB to 2,012 MB with the heap
 * at 6 MB throughout), so a tight RSS bound would measure the simulator, not Parley; the heap
 * bound above is the leak check.
 */
const RSS_BOUND = { ratio: 3, plus: 256 * MB };
const SEED = 0x5eed;

/** A 1x1 PNG; a random tail makes each upload's bytes distinct. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);

/** Deterministic choices, so a failing run can be repeated as it was. */
function mulberry32(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Expected {
  givenName?: string;
  surname?: string;
  email?: string;
  properties: Record<string, string | number>;
  /** Acknowledged messages, in post order: text and the author name the profile implied. */
  messages: { id: string; text: string; name?: string }[];
  devices: number;
  updates: number;
}

const fullName = (e: Expected) => [e.givenName, e.surname].filter(Boolean).join(" ") || undefined;

const OPERATIONS = ["post", "readConversation", "readMessages", "update", "init", "upload", "getUser"] as const;
type Operation = (typeof OPERATIONS)[number];
const WEIGHTS: Record<Operation, number> = {
  post: 35,
  readConversation: 18,
  readMessages: 10,
  update: 15,
  init: 10,
  upload: 7,
  getUser: 5,
};

export async function soak(): Promise<string[]> {
  const failures = new Failures();
  let server: DevServer | undefined;
  try {
    server = await startDevServer();
    const { baseUrl, pid } = server;
    const app = await createApp(baseUrl, server.account, "faults soak");
    const users = await initUsers(baseUrl, app, "soak", USERS);
    const expected = new Map<User, Expected>(users.map((u) => [u, { properties: {}, messages: [], devices: 1, updates: 0 }]));

    const counts = Object.fromEntries(OPERATIONS.map((op) => [op, 0])) as Record<Operation, number>;
    const statuses = new Map<string, number>();
    const latencies = Object.fromEntries(OPERATIONS.map((op) => [op, [] as number[]])) as Record<Operation, number[]>;
    const serverErrors: string[] = [];
    const unanswered: string[] = [];
    const mismatches: string[] = [];
    let rateLimited = 0;
    let mediaChecked = 0;
    let requests = 0;
    const samples: { at: number; bytes: number; runtime: number }[] = [];
    const heaps: { at: number; live: number | null }[] = [];
    const runtimePids = new Set<number>();
    const inspector = await openInspector(pid);

    /** Classifies an outcome; true when it is the expected success. */
    const judge = (op: Operation, outcome: Outcome, ok: number[], allowed: number[] = []): boolean => {
      requests++;
      latencies[op].push(outcome.ms);
      const key = `${op} ${outcome.status}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      if (outcome.status === 0) unanswered.push(`${op}: ${"error" in outcome ? outcome.error : ""}`);
      else if (outcome.status >= 500) serverErrors.push(`${op} ${outcome.status} ${JSON.stringify("json" in outcome ? outcome.json : "").slice(0, 200)}`);
      else if (outcome.status === 429) rateLimited++;
      else if (!ok.includes(outcome.status) && !allowed.includes(outcome.status)) {
        mismatches.push(`${op} answered ${outcome.status}: ${JSON.stringify("json" in outcome ? outcome.json : "").slice(0, 200)}`);
      }
      return ok.includes(outcome.status);
    };
    const expectEqual = (what: string, actual: unknown, wanted: unknown) => {
      if (JSON.stringify(actual) !== JSON.stringify(wanted)) {
        mismatches.push(`${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(wanted)}`);
      }
    };
    const profileOf = (e: Expected) => ({ givenName: e.givenName, surname: e.surname, email: e.email, properties: e.properties });
    const checkProfile = (what: string, appUser: any, e: Expected) =>
      expectEqual(what, { givenName: appUser.givenName, surname: appUser.surname, email: appUser.email, properties: appUser.properties }, profileOf(e));

    const operations: Record<Operation, (user: User, e: Expected, random: () => number) => Promise<void>> = {
      async post(user, e) {
        const text = `soak ${user.userId} #${e.messages.length}`;
        const outcome = await request(baseUrl, "POST", `/v1/appusers/${user.id}/messages`, {
          jwt: user.jwt,
          body: { role: "appUser", text, metadata: { n: e.messages.length } },
        });
        if (judge("post", outcome, [201]) && "json" in outcome) e.messages.push({ id: outcome.json.message._id, text, name: fullName(e) });
      },
      async readConversation(user, e) {
        const outcome = await request(baseUrl, "GET", `/v1/appusers/${user.id}/conversation`, { jwt: user.jwt });
        // No conversation until the first message: 404 then, and only then.
        if (judge("readConversation", outcome, e.messages.length > 0 ? [200] : [404]) && outcome.status === 200 && "json" in outcome) {
          const messages = outcome.json.conversation.messages;
          expectEqual(`${user.userId} newest message`, messages.at(-1)?._id, e.messages.at(-1)?.id);
        }
      },
      async readMessages(user, e) {
        const outcome = await request(baseUrl, "GET", `/v1/appusers/${user.id}/messages`, { jwt: user.jwt });
        if (judge("readMessages", outcome, [200]) && "json" in outcome) {
          expectEqual(`${user.userId} newest page size`, outcome.json.messages.length, Math.min(100, e.messages.length));
        }
      },
      async update(user, e) {
        const n = ++e.updates;
        const changes: Record<string, unknown> = { givenName: `Given${n}`, properties: { n, [`k${n % 5}`]: `v${n}` } };
        if (n % 3 === 0) changes.surname = `Sur${n}`;
        if (n % 4 === 0) changes.email = `${user.userId}+${n}@example.com`;
        const outcome = await request(baseUrl, "PUT", `/v1/appusers/${user.id}`, { jwt: user.jwt, body: changes });
        if (judge("update", outcome, [200]) && "json" in outcome) {
          e.givenName = changes.givenName as string;
          if (changes.surname) e.surname = changes.surname as string;
          if (changes.email) e.email = changes.email as string;
          Object.assign(e.properties, changes.properties);
          checkProfile(`${user.userId} update answer`, outcome.json.appUser, e);
        }
      },
      async init(user, e) {
        const device = { id: `${user.userId}-device-${e.devices}`, platform: "web", appVersion: "1.0" };
        const outcome = await request(baseUrl, "POST", "/v1/init", { jwt: user.jwt, body: { device, userId: user.userId } });
        if (judge("init", outcome, [200]) && "json" in outcome) {
          e.devices++;
          expectEqual(`${user.userId} init _id`, outcome.json.appUser._id, user.id);
          checkProfile(`${user.userId} init answer`, outcome.json.appUser, e);
        }
      },
      async upload(user, e, random) {
        const bytes = Buffer.concat([PNG, Buffer.from(Array.from({ length: 1024 + Math.floor(random() * 8192) }, () => Math.floor(random() * 256)))]);
        const form = new FormData();
        form.set("role", "appUser");
        form.set("source", new Blob([bytes], { type: "image/png" }), "soak.png");
        const outcome = await request(baseUrl, "POST", `/v1/appusers/${user.id}/images`, { jwt: user.jwt, form });
        if (!(judge("upload", outcome, [201]) && "json" in outcome)) return;
        const message = outcome.json.message;
        // An image message's text is its media URL; the expected list keeps what gets stored.
        e.messages.push({ id: message._id, text: message.text, name: fullName(e) });
        if (random() < 0.25) {
          const media = await fetch(message.mediaUrl, { signal: AbortSignal.timeout(30_000) }).catch(() => null);
          const body = media?.ok ? Buffer.from(await media.arrayBuffer()) : null;
          requests++;
          mediaChecked++;
          if (!body || !body.equals(bytes)) mismatches.push(`${user.userId} media ${message.mediaUrl}: ${media?.status ?? "no answer"}, bytes differ`);
        }
      },
      async getUser(user, e) {
        const outcome = await request(baseUrl, "GET", `/v1/appusers/${user.id}`, { jwt: user.jwt });
        if (judge("getUser", outcome, [200]) && "json" in outcome) checkProfile(`${user.userId} get`, outcome.json.appUser, e);
      },
    };
    const total = Object.values(WEIGHTS).reduce((a, b) => a + b, 0);
    const pick = (r: number): Operation => {
      let x = r * total;
      for (const op of OPERATIONS) if ((x -= WEIGHTS[op]) < 0) return op;
      return "post";
    };

    const started = Date.now();
    const sampler = (async () => {
      while (Date.now() - started < DURATION_MS) {
        const rss = workerdRss(pid);
        const runtime = rss.pids.filter(isWorkerRuntime);
        for (const p of runtime) runtimePids.add(p);
        const runtimeBytes = runtime.reduce((n, p) => n + rss.byPid.get(p)!, 0);
        samples.push({ at: Date.now() - started, bytes: rss.bytes, runtime: runtimeBytes });
        await sleep(SAMPLE_EVERY_MS);
      }
    })();
    const heapSampler = (async () => {
      for (let at = HEAP_EVERY_MS; at < DURATION_MS; at += HEAP_EVERY_MS) {
        await sleep(started + at - Date.now());
        heaps.push({ at: Date.now() - started, live: await inspector.liveHeap() });
      }
    })();
    // Each worker owns its users, so a user's requests are sequential and "last acknowledged" is exact.
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, worker) => {
        const random = mulberry32(SEED + worker);
        const owned = users.filter((u) => u.index % CONCURRENCY === worker);
        while (Date.now() - started < DURATION_MS && requests < MAX_REQUESTS) {
          const user = owned[Math.floor(random() * owned.length)];
          const op = pick(random());
          counts[op]++;
          await operations[op](user, expected.get(user)!, random);
        }
      }),
    );
    const elapsed = Date.now() - started;
    await Promise.all([sampler, heapSampler]);
    heaps.push({ at: Date.now() - started, live: await inspector.liveHeap() });
    inspector.close();

    // The final state against what was acknowledged.
    let messagesChecked = 0;
    let stateMismatches = 0;
    for (const user of users) {
      const e = expected.get(user)!;
      const stored = await allMessages(baseUrl, user);
      messagesChecked += stored.length;
      const got = stored.map((m) => ({ id: m._id, text: m.text, name: m.name }));
      if (JSON.stringify(got) !== JSON.stringify(e.messages)) {
        stateMismatches++;
        mismatches.push(`${user.userId}: ${stored.length} messages stored, ${e.messages.length} acknowledged, or not in post order / not as posted`);
      }
      const outcome = await request(baseUrl, "GET", `/v1/appusers/${user.id}`, { jwt: user.jwt });
      if (outcome.status === 200 && "json" in outcome) {
        const before = mismatches.length;
        checkProfile(`${user.userId} final profile`, outcome.json.appUser, e);
        if (mismatches.length > before) stateMismatches++;
      } else {
        stateMismatches++;
        mismatches.push(`${user.userId} final profile: ${outcome.status}`);
      }
    }

    const third = Math.floor(samples.length / 3);
    const thirds = [samples.slice(0, third), samples.slice(samples.length - third)];
    const peaks = (value: (s: (typeof samples)[number]) => number) => thirds.map((list) => Math.max(0, ...list.map(value)));
    const [firstRss, lastRss] = peaks((s) => s.bytes);
    const [firstRuntime, lastRuntime] = peaks((s) => s.runtime);
    const rssBound = firstRss * RSS_BOUND.ratio + RSS_BOUND.plus;
    const live = heaps.filter((h) => h.live !== null) as { at: number; live: number }[];
    const heapPeak = (from: number, to: number) => Math.max(0, ...live.filter((h) => h.at >= from && h.at < to).map((h) => h.live));
    const [firstHeap, lastHeap] = [heapPeak(0, elapsed / 3), heapPeak((2 * elapsed) / 3, Infinity)];
    const heapBound = firstHeap * HEAP_BOUND.ratio + HEAP_BOUND.plus;
    const acked = [...expected.values()].reduce((n, e) => n + e.messages.length, 0);

    failures.check(serverErrors.length === 0, `${serverErrors.length} answers with 5xx, first: ${serverErrors.slice(0, 3).join(" | ")}`);
    failures.check(unanswered.length === 0, `${unanswered.length} requests got no answer, first: ${unanswered.slice(0, 3).join(" | ")}`);
    failures.check(mismatches.length === 0, `${mismatches.length} answers or final states differ from what was acknowledged, first: ${mismatches.slice(0, 3).join(" | ")}`);
    failures.check(third > 0 && firstRss > 0, "no workerd memory samples were taken");
    // A restart would also void the memory comparison. wrangler restarts the runtime after a
    // crash, or when the worker's sources change under it (another edit during the run).
    failures.check(runtimePids.size === 1, `the worker runtime restarted during the run (${runtimePids.size} processes seen)`);
    failures.check(live.length === heaps.length && firstHeap > 0 && lastHeap > 0, `only ${live.length} of ${heaps.length} live memory measurements answered`);
    failures.check(lastHeap <= heapBound, `the worker's live memory grew: last third's peak ${mb(lastHeap)} > bound ${mb(heapBound)}`);
    failures.check(lastRss <= rssBound, `workerd RSS grew: last third's peak ${mb(lastRss)} > bound ${mb(rssBound)}`);

    figures([
      ["duration, concurrency, users", `${(elapsed / 1000).toFixed(0)} s, ${CONCURRENCY}, ${USERS}`],
      ["requests", `${requests} (${(requests / (elapsed / 1000)).toFixed(0)}/s)`],
      ["operations", OPERATIONS.map((op) => `${op} ${counts[op]}`).join(", ")],
      ["latency p50 / p99 (ms)", OPERATIONS.map((op) => `${op} ${quantile(latencies[op], 0.5).toFixed(0)}/${quantile(latencies[op], 0.99).toFixed(0)}`).join(", ")],
      ["statuses", [...statuses.entries()].sort().map(([k, n]) => `${k}: ${n}`).join(", ")],
      ["5xx / no answer / 429", `${serverErrors.length} / ${unanswered.length} / ${rateLimited}`],
      ["media read back and compared", mediaChecked],
      ["final state", `${users.length} users, ${messagesChecked} messages stored, ${acked} acknowledged, ${stateMismatches} users differ`],
      ["memory samples", `RSS every ${SAMPLE_EVERY_MS / 1000} s (${samples.length}), live memory every ${HEAP_EVERY_MS / 1000} s and at the end (${heaps.length})`],
      ["worker live memory (after full GC)", live.map((h) => `${(h.at / 1000).toFixed(0)} s ${(h.live / MB).toFixed(1)}`).join(", ") + " MB"],
      ["worker live memory peak, first -> last third", `${mb(firstHeap)} -> ${mb(lastHeap)}; bound ${mb(heapBound)} (x ${HEAP_BOUND.ratio} + ${mb(HEAP_BOUND.plus)})`],
      ["workerd RSS peak, all processes", `${mb(firstRss)} -> ${mb(lastRss)}; bound ${mb(rssBound)} (x ${RSS_BOUND.ratio} + ${mb(RSS_BOUND.plus)})`],
      ["workerd RSS peak, worker runtime", `${mb(firstRuntime)} -> ${mb(lastRuntime)} (the rest is wrangler's proxy)`],
    ]);
    if (rateLimited > 0) log(`NOTE: ${rateLimited} requests were rate limited (429): not acknowledged, not counted as failures`);
  } finally {
    await server?.stop();
  }
  return failures.list;
}
