// `npm run bench`: starts wrangler dev on fresh local state, measures the scenarios of issue 4
// against a baseline taken in the same run, and the floor (a bare Durable Object append, and one
// behind a D1 read: test/bench/floor/) in the same run, each scenario judged against a floor as
// the median of five pairs of loads; prints the table with each target of issues 12 and 26 and
// writes test/bench/latest.json, the record the README's table is generated from.
// `npm run bench -- --only 2,3` (any scenario ids) runs the setup, the baseline and the scenarios
// named (with the floors they are judged against) only, and leaves latest.json as it was.
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevServer, type DevServer } from "../support/dev-server.ts";
import type { App } from "../support/apps.ts";
import { httpSend } from "../support/http.ts";
import { pool, sleep } from "../support/pace.ts";
import { initUser, preCreateUser } from "../support/users.ts";
import { call, createApp } from "./api.ts";
import { BENCH_RATE_LIMIT, ROOT, SPREAD, writeBenchConfig } from "./config.ts";
import { startFloor, type Floor, type FloorLoad } from "./floor-loads.ts";
import { runLoad, type Figures, type LoadOptions } from "./load.ts";
import { fmt, machine, percentile, table, writeJson, type ScenarioResult } from "./report.ts";
import { judge, verdictLines } from "./targets.ts";
import type { LagRequest, LagResult } from "./index-probe.ts";
import { readIndexCopy, waitIndexed } from "./index-copy.ts";
import type { OpenResult, ProbeRequest, ReceiptResult, Subscribee } from "./realtime-probe.ts";
import type { SampleRequest, SampleResult, SettleRequest, SettleResult } from "./webhook-probe.ts";
import { openInspector, readConversations, readIndexedMessages, workerdRss } from "../support/workerd.ts";

const CONNECTIONS = 16;
const DURATION_SECONDS = 10;
const WARMUP_SECONDS = 2;
const USERS = 1_000;
/** Setup requests in flight at once: enough to keep the server busy, few enough to stay polite. */
const SETUP_CONCURRENCY = 16;
/** Whisper rules on the seeding event: one tracked event appends this many messages in one call. */
const SEED_BATCH = 100;
const SMALL_CONVERSATION = 100;
const LARGE_CONVERSATION = 20_000;
const WEBHOOK_SAMPLES = 200;
const WEBHOOK_AWAIT_MS = 60_000;
/** The read of the small conversation before the heap is read after it (not measured). */
const HEAP_READ_SECONDS = 3;
/** Sockets opened at once while connecting the idle subscribers. */
const SOCKET_CONCURRENCY = 32;
const REALTIME_SAMPLES = 200;
const REALTIME_AWAIT_MS = 30_000;
const RESULTS = join(ROOT, "test/bench/latest.json");
/** How long the index gets to hold every message stored before its reads are measured. */
const INDEX_WAIT_MS = 300_000;
/** The words scenario 10 and F8 search for: the last one a prefix, as a search box sends them. */
const SEARCH_Q = "seeded message 4";
/** Scenario 11: loads of scenario 2, each with this many lag samples, each to a user of its own. */
const LAG_ROUNDS = 3;
const LAG_SAMPLES = 100;
const LAG_POLL_MS = 50;
const LAG_AWAIT_MS = 30_000;
const INDEX_SCENARIOS = ["9", "10", "11"];
/** Every scenario, in the order a run measures them (1, the baseline, always runs). */
const SCENARIOS = ["1", "2", "2j", "2c", "3", "4a", "4b", "5", "6", ...INDEX_SCENARIOS, "7", "8"];
/**
 * Idle time before each measured load: locally workerd evicts a Durable Object 10 s after its
 * last request, and the objects the last load (Parley's or the floor's) left would otherwise
 * close their databases under the next one.
 */
const SETTLE_MS = 11_000;
/**
 * Idle time before each load judged against F4d: the safety-net alarms a webhook load arms (30 s
 * after each object's first post) fire after its end, and would otherwise fire under the next load.
 */
const ALARMS_SETTLE_MS = 25_000;
/**
 * Pairs of loads (the floor's, then the scenario's) measured for each scenario judged against a
 * floor. The same pair varies by 10 to 15% from one minute to the next on this machine, more than
 * the 10% margin of a verdict, and now and then by a third; the pair in the middle of five is judged.
 */
const ROUNDS = 5;

const log = (text: string) => console.log(text);
/** A latency, or how long it was waited for in vain. */
const lateBy = (n: number | null, waitedMs: number) => (n === null ? `over ${waitedMs / 1000} s` : `${fmt(n)} ms`);

/** A latency, or null for one beyond the wait. */
const finite = (n: number | null) => (n !== null && Number.isFinite(n) ? n : null);

/** Scenario 11's samples of every round together: a message never shown is later than every one that was. */
function lagFigures(rounds: LagResult[]) {
  const sum = (pick: (round: LagResult) => number) => rounds.reduce((total, round) => total + pick(round), 0);
  const missing = sum((round) => round.missing);
  const lags = [...rounds.flatMap((round) => round.lags), ...Array<number>(missing).fill(Infinity)];
  return {
    samples: sum((round) => round.posted),
    shown: lags.length - missing,
    missing,
    postFailures: sum((round) => round.postFailures),
    polls: sum((round) => round.polls),
    pollFailures: sum((round) => round.pollFailures),
    p50: finite(percentile(lags, 50)),
    p99: finite(percentile(lags, 99)),
    max: finite(lags.length ? Math.max(...lags) : null),
  };
}
/**
 * A drain before a load is logged when it took longer than this: the check alone (every state
 * database read) takes a few seconds once the setup has stored its messages.
 */
const DRAIN_LOG_MS = 10_000;
const elapsed = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

interface Prepared {
  app: App;
  /** `_id`s of the users the posting scenarios spread over. */
  users: string[];
  /** The same users with their conversations, for the realtime subscribers. */
  subscribees: Subscribee[];
  single: string;
  small: string;
  large: string;
}

const messageBody = JSON.stringify({ role: "appUser", text: "A benchmark message of ordinary length, about sixty chars." });

async function prepare(server: DevServer): Promise<Prepared> {
  const started = Date.now();
  const app = await createApp(server.baseUrl, server.account);
  const send = httpSend(server.baseUrl);
  /** A device's init with the app token. */
  const initDevice = async (userId: string): Promise<string> =>
    (await initUser(send, app.token, { id: `device-${userId}`, platform: "web" }, userId))._id;
  /** The business's server creating a user: one D1 write, so 1,000 of them are quick to make. */
  const preCreate = async (userId: string): Promise<string> => (await preCreateUser(send, app.server, userId))._id;
  const post = (user: string) =>
    call(server.baseUrl, "POST", `/v1/appusers/${user}/conversation/messages`, app.token, JSON.parse(messageBody));

  // One message each beforehand, so the measured posts are the steady state and not the
  // one-time conversationStarted write of a user's first message.
  const users = await pool(USERS, SETUP_CONCURRENCY, (i) => preCreate(`bench-user-${i}`));
  const conversations = await pool(USERS, SETUP_CONCURRENCY, async (i) => (await post(users[i])).conversation._id as string);
  const [single, small, large] = await Promise.all(["single", "small", "large"].map((name) => initDevice(`bench-${name}`)));
  await post(single);
  log(`  ${USERS} users pre-created, one message each (${elapsed(started)})`);

  // Seeding in batches: a tracked event appends every matching whisper in one call to the
  // conversation object, so 20,000 messages take 200 requests instead of 20,000.
  await pool(SEED_BATCH, SETUP_CONCURRENCY, (i) =>
    call(server.baseUrl, "POST", "/v1/whispers", app.server, { event: "bench-seed", text: `Seeded message ${i}, of ordinary length for a chat.` }),
  );
  const track = (user: string) =>
    call(server.baseUrl, "POST", `/v1/appusers/${user}/events`, app.token, { name: "bench-seed" });
  await pool(SMALL_CONVERSATION / SEED_BATCH, 1, () => track(small));
  await pool(LARGE_CONVERSATION / SEED_BATCH, 4, () => track(large));
  for (const [user, expected] of [[small, SMALL_CONVERSATION], [large, LARGE_CONVERSATION]] as const) {
    const { messages, previous } = await call(server.baseUrl, "GET", `/v1/appusers/${user}/messages`, app.token);
    if (messages.length !== 100 || (expected > 100) !== Boolean(previous)) {
      throw new Error(`seeding: the conversation of ${expected} messages does not page as expected`);
    }
  }
  log(`  conversations of ${SMALL_CONVERSATION} and ${fmt(LARGE_CONVERSATION)} messages seeded (${elapsed(started)})`);
  return { app, users, subscribees: users.map((id, i) => ({ id, conversationId: conversations[i] })), single, small, large };
}

/** A probe child (webhook or realtime): started, and its ready message once it has one. */
async function startProbe<Ready>(file: string): Promise<{ child: ChildProcess; ready: Ready }> {
  const child = fork(join(ROOT, "test/bench", file), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start within 10 s`)), 10_000);
    child.once("message", (message: Ready) => {
      clearTimeout(timer);
      resolve(message);
    });
    child.once("exit", (code) => reject(new Error(`${file} exited (${code}) before it was ready`)));
  });
  return { child, ready };
}

/** Sends a probe one request and waits for its answer. */
function ask<Answer>(child: ChildProcess, request: object): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`probe exited (${code})`));
    child.once("exit", onExit);
    child.once("message", (message: Answer) => {
      child.off("exit", onExit);
      resolve(message);
    });
    child.send(request);
  });
}

const sample = (child: ChildProcess, request: Omit<SampleRequest, "type">) =>
  ask<SampleResult>(child, { type: "sample", ...request });

type Load = Omit<LoadOptions, "baseUrl" | "connections" | "durationSeconds" | "warmupSeconds">;

const load = (baseUrl: string, options: Load) =>
  runLoad({ baseUrl, connections: CONNECTIONS, durationSeconds: DURATION_SECONDS, warmupSeconds: WARMUP_SECONDS, ...options });

/**
 * Every message of a conversation, oldest first, through the API's `after` paging: the stored
 * count, and whether `received` strictly increases (one object serialises its appends).
 */
async function conversationOrder(baseUrl: string, headers: Record<string, string>, user: string) {
  const received: number[] = [];
  let path: string | undefined = `/v1/appusers/${user}/messages?after=0`;
  while (path) {
    const page: { messages: { received: number }[]; next?: string } = await call(baseUrl, "GET", path, headers);
    received.push(...page.messages.map((m) => m.received));
    path = page.next && new URL(page.next).pathname + new URL(page.next).search;
  }
  return { stored: received.length, strictlyIncreasing: received.every((r, i) => i === 0 || r > received[i - 1]) };
}

/** `--only 2,3`: the scenarios to run alone (besides the baseline), or null for the whole bench. */
function onlyOption(): Set<string> | null {
  const at = process.argv.indexOf("--only");
  if (at < 0) return null;
  const ids = (process.argv[at + 1] ?? "").split(",").filter(Boolean);
  const unknown = ids.filter((id) => !SCENARIOS.includes(id));
  if (ids.length === 0 || unknown.length > 0) throw new Error(`--only takes scenario ids, some of ${SCENARIOS.join(",")}; not '${process.argv[at + 1] ?? ""}'`);
  return new Set(ids);
}

async function main() {
  const started = Date.now();
  const only = onlyOption();
  const dir = mkdtempSync(join(tmpdir(), "parley-bench-"));
  let server: DevServer | undefined;
  let floorServer: Floor | undefined;
  let floorProbe: ChildProcess | undefined;
  let probe: ChildProcess | undefined;
  let realtimeProbe: ChildProcess | undefined;
  let lagProbe: ChildProcess | undefined;
  let stopping: Promise<void> | undefined;
  // Once only: Ctrl-C and the failure it causes in the run both come here.
  const cleanup = () =>
    (stopping ??= (async () => {
      for (const child of [probe, realtimeProbe, lagProbe, floorProbe]) {
        if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      }
      await Promise.all([server?.stop(), floorServer?.stop()]);
      rmSync(dir, { recursive: true, force: true });
    })());
  // Ctrl-C: stop what we started before going.
  process.once("SIGINT", () => void cleanup().finally(() => process.exit(130)));
  /**
   * Before each load: Parley's index and the floor's index feed hold every message stored so far,
   * so that the last load's index backlog is consumed before the next load, not under it.
   */
  const drain = async () => {
    const since = Date.now();
    const pending = (await waitIndexed(server!.persistTo, INDEX_WAIT_MS)) + (await floorServer!.waitFed(INDEX_WAIT_MS));
    if (pending > 0) log(`  NOTE: ${fmt(pending)} messages still not indexed after ${elapsed(since)}`);
    else if (Date.now() - since > DRAIN_LOG_MS) log(`  (indexes drained in ${elapsed(since)})`);
  };
  /** The drain, then the idle pause. */
  const settle = async (ms = SETTLE_MS) => {
    await drain();
    await sleep(ms);
  };

  try {
    // The floor's server runs beside Parley's, each of its loads beside the scenario judged
    // against it; it posts its webhooks to a probe of its own, so that scenario 7's counts stay Parley's.
    const floorHook = await startProbe<{ port: number }>("webhook-probe.ts");
    floorProbe = floorHook.child;
    floorServer = await startFloor(dir, `http://127.0.0.1:${floorHook.ready.port}/hook`, messageBody, load);
    log(`Floor: test/bench/floor/worker.ts on its own wrangler dev, measured beside Parley's scenarios.`);
    const floorFigures: Partial<Record<FloorLoad, Figures>> = {};
    const floorOnce = async (name: FloorLoad, pauseMs = SETTLE_MS, around = (run: () => Promise<Figures>) => run()) => {
      await settle(pauseMs);
      const figures = await around(() => floorServer!.measure(name));
      log(`  floor, ${name}: ${fmt(figures.rps)} req/s, p50 ${fmt(figures.p50)} ms, p99 ${fmt(figures.p99)} ms`);
      return figures;
    };
    const measureFloor = async (...loads: FloorLoad[]) => {
      for (const name of loads) floorFigures[name] = await floorOnce(name);
    };
    const config = writeBenchConfig(dir);
    log(`Parley benchmark: ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up + ${DURATION_SECONDS} s per scenario, loopback only.`);
    log(
      `Rate limits: RATE_LIMITER, SERVER_RATE_LIMITER, APP_RATE_LIMITER, AUTH_FAILURE_LIMITER and REALTIME_LIMITER raised to ${fmt(BENCH_RATE_LIMIT)} per 60 s in a temporary copy ` +
        `of wrangler.toml (${config}), so that one load generator on one address is not throttled.`,
    );
    server = await startDevServer({ config, logLevel: "warn", vars: { WEBHOOK_ALLOW_PRIVATE_TARGETS: "true" } });
    log(`wrangler dev on ${server.baseUrl} (fresh state, --log-level warn) after ${elapsed(started)}`);
    const prepared = Date.now();
    const { app, users, subscribees, single, small, large } = await prepare(server);
    const s = server;
    // The seeding's index jobs consumed before any load: the consumer's rate over the whole setup is
    // a lower bound of its throughput (it waits on the setup's posts as much as it works).
    const drainStarted = Date.now();
    const unindexed = await waitIndexed(s.persistTo, INDEX_WAIT_MS);
    const indexedMessages = readIndexedMessages(s.persistTo).size;
    const indexDrain = {
      messages: indexedMessages,
      unindexed,
      waitAfterSetupSeconds: (Date.now() - drainStarted) / 1000,
      jobsPerSecondLowerBound: indexedMessages / ((Date.now() - prepared) / 1000),
    };
    log(
      `  index: ${unindexed > 0 ? `${fmt(unindexed)} stored messages still not indexed` : `holds all ${fmt(indexedMessages)} stored messages`} ` +
        `${fmt(indexDrain.waitAfterSetupSeconds, 1)} s after the setup; ${fmt(indexDrain.jobsPerSecondLowerBound)} jobs/s from the seeding's start ` +
        `(a lower bound of the consumer's throughput: it also waited on the seeding)`,
    );

    const results: ScenarioResult[] = [];
    let baseline = 0;
    const measure = async (id: string, name: string, options: Load): Promise<ScenarioResult> => {
      const figures: Figures = await load(s.baseUrl, options);
      if (id === "1") baseline = figures.rps;
      const codes = Object.entries(figures.statusCodes).map(([code, n]) => `${code}×${n}`).join(" ");
      log(`  ${id}. ${name}: ${fmt(figures.rps)} req/s, p50 ${fmt(figures.p50)} ms, p99 ${fmt(figures.p99)} ms, ${codes || "no answers"}`);
      return { id, name, ...figures, ratioToBaseline: baseline ? figures.rps / baseline : 0 };
    };
    /** A load measured once, after the drain (a judged one's drain is in its pauses). */
    const scenario = async (id: string, name: string, options: Load) => {
      await drain();
      const result = await measure(id, name, options);
      results.push(result);
      return result;
    };
    /** Each round's scenario over its floor, by scenario id. */
    const rounds: Record<string, number[]> = {};
    /** How each round of a judged scenario runs, besides its load. */
    interface Round {
      /** Before each of its loads (after the pause). */
      prepare?: () => Promise<void>;
      /** The idle pause before each load, the floor's and the scenario's. */
      pauseMs?: number;
      /** Runs the scenario's load, with whatever must run beside it. */
      around?: (run: () => Promise<ScenarioResult>) => Promise<ScenarioResult>;
      /** Runs the floor's load with the same beside it: the pair compares like with like. */
      aroundFloor?: (run: () => Promise<Figures>) => Promise<Figures>;
    }
    /**
     * ROUNDS pairs: the floor's load, then the scenario's; the pair whose scenario-to-floor ratio
     * is the median is kept, as the scenario's and the floor's figures.
     */
    const judged = async (floorLoad: FloorLoad, id: string, name: string, options: Load, round: Round = {}) => {
      const { prepare = async () => {}, pauseMs = SETTLE_MS, around = (run) => run(), aroundFloor } = round;
      const pairs: { floor: Figures; result: ScenarioResult }[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const floor = await floorOnce(floorLoad, pauseMs, aroundFloor);
        await settle(pauseMs);
        await prepare();
        pairs.push({ floor, result: await around(() => measure(id, name, options)) });
      }
      const ratio = (pair: (typeof pairs)[number]) => pair.result.rps / pair.floor.rps;
      pairs.sort((a, b) => ratio(a) - ratio(b));
      const median = pairs[Math.floor(pairs.length / 2)];
      rounds[id] = pairs.map(ratio);
      log(`     ${id} over ${floorLoad}, round by round: ${rounds[id].map((r) => fmt(r, 2)).join(", ")}; the median pair is kept`);
      floorFigures[floorLoad] = median.floor;
      results.push(median.result);
      return { kept: median.result, all: pairs.map((pair) => pair.result) };
    };
    let next = 0;
    const anyUser = () => ({ path: `/v1/appusers/${users[next++ % SPREAD]}/conversation/messages` });
    const postToUsers = { method: "POST" as const, path: anyUser().path, headers: app.token, body: messageBody, vary: anyUser };

    // Every conversation object a load is spread over in memory before it, as the floor's are:
    // the runtime evicts idle objects after 10 s locally, and a cold start per post is not the
    // steady state (the 2 s warm-up reaches a fraction of the users).
    const touchConversations = async () => {
      await pool(SPREAD, SETUP_CONCURRENCY, (i) => call(s.baseUrl, "GET", `/v1/appusers/${users[i]}/conversation`, app.token));
    };

    /**
     * Scenarios 9 to 11, the conversation index (issue 26): once it holds every message stored so
     * far and the floor holds a copy of it, the list and the search, each judged against its floor;
     * then scenario 2's load again, LAG_ROUNDS times, while the probe samples the index's lag.
     */
    const indexScenarios = async (wanted: Set<string>) => {
      const pending = await waitIndexed(s.persistTo, INDEX_WAIT_MS);
      if (pending > 0) log(`  NOTE: ${fmt(pending)} stored messages were not in the index after ${INDEX_WAIT_MS / 1000} s`);
      const copy = readIndexCopy(s.persistTo, app.appId, SEARCH_Q);
      const index = { conversations: copy.conversations.length, messages: copy.messages.length, searchQuery: SEARCH_Q, lag: null as null | ReturnType<typeof lagFigures> };
      if (wanted.has("9") || wanted.has("10")) {
        await floorServer!.copyIndex(copy);
        log(`  the index holds ${fmt(index.conversations)} conversations and ${fmt(index.messages)} messages; the floor, a copy of them`);
      }
      if (wanted.has("9")) {
        await judged("list", "9", `list conversations, app JWT, 25 of ${fmt(index.conversations)}`, { path: "/v1/conversations", headers: app.server });
      }
      if (wanted.has("10")) {
        const path = `/v1/conversations/search?q=${encodeURIComponent(SEARCH_Q)}`;
        await judged("search", "10", `search "${SEARCH_Q}", app JWT, ${fmt(index.messages)} messages`, { path, headers: app.server });
      }
      if (!wanted.has("11")) return index;
      lagProbe = (await startProbe<{ type: "ready" }>("index-probe.ts")).child;
      const lagRounds: { result: ScenarioResult; lag: LagResult }[] = [];
      for (let round = 0; round < LAG_ROUNDS; round++) {
        await settle();
        await touchConversations();
        // Users past the load's SPREAD: nothing else posts to them while their samples wait.
        const first = SPREAD + round * LAG_SAMPLES;
        const sampling = ask<LagResult>(lagProbe, {
          baseUrl: s.baseUrl,
          appToken: app.appToken,
          appJwt: app.appJwt,
          users: users.slice(first, first + LAG_SAMPLES).map((id, k) => ({ id, userId: `bench-user-${first + k}` })),
          startDelayMs: WARMUP_SECONDS * 1000,
          intervalMs: (DURATION_SECONDS * 1000) / LAG_SAMPLES,
          pollMs: LAG_POLL_MS,
          awaitMs: LAG_AWAIT_MS,
        } satisfies LagRequest);
        lagRounds.push({ result: await measure("11", "post message as in 2, index lag sampled", postToUsers), lag: await sampling });
      }
      // The round of the median post rate is the table's.
      const kept = [...lagRounds].sort((a, b) => a.result.rps - b.result.rps)[Math.floor(LAG_ROUNDS / 2)];
      results.push(kept.result);
      index.lag = lagFigures(lagRounds.map((round) => round.lag));
      log(
        `     index lag over ${LAG_ROUNDS} loads: p50 ${lateBy(index.lag.p50, LAG_AWAIT_MS)}, p99 ${lateBy(index.lag.p99, LAG_AWAIT_MS)}, max ${lateBy(index.lag.max, LAG_AWAIT_MS)} ` +
          `(${index.lag.shown} of ${index.lag.samples} sampled messages shown within ${LAG_AWAIT_MS / 1000} s; ${fmt(index.lag.polls)} list requests)`,
      );
      return index;
    };

    const wants = (id: string) => !only || only.has(id);

    const oneConversationScenario = async () => {
      const singleBefore = await conversationOrder(s.baseUrl, app.token, single);
      const oneConversationRounds = await judged(
        "oneConversation",
        "3",
        "post message, one conversation",
        { method: "POST", path: `/v1/appusers/${single}/conversation/messages`, headers: app.token, body: messageBody },
      );
      const singleAfter = await conversationOrder(s.baseUrl, app.token, single);
      const oneConversation = {
        stored: singleAfter.stored - singleBefore.stored,
        answered201: oneConversationRounds.all.reduce((sum, round) => sum + (round.statusCodes["201"] ?? 0), 0),
        receivedStrictlyIncreasing: singleAfter.strictlyIncreasing,
      };
      log(`     ${fmt(oneConversation.stored)} messages stored in the one conversation, received ${oneConversation.receivedStrictlyIncreasing ? "strictly increasing" : "NOT strictly increasing"}`);
      return oneConversation;
    };

    // The worker isolate's live memory (its Durable Objects share it), after each conversation read:
    // what an object keeps in memory must not grow with the conversation's length.
    const inspector = await openInspector(s.pid);
    const heapMB = async () => ((await inspector.liveHeap()) ?? NaN) / 2 ** 20;
    /**
     * 4a judged against F5, 4b right after 4a in each round, judged over it; the heap read once the
     * rounds are over, after a read of each conversation. Not between 4a and 4b: a heap snapshot
     * stops the isolate and leaves it colder, which the load after it would pay alone.
     */
    const readScenarios = async () => {
      const smallPath = { path: `/v1/appusers/${small}/conversation`, headers: app.token };
      const largePath = { path: `/v1/appusers/${large}/conversation`, headers: app.token };
      const reads: { small: ScenarioResult; large: ScenarioResult }[] = [];
      const { kept: small4 } = await judged("read", "4a", `GET conversation, ${SMALL_CONVERSATION} messages`, smallPath, {
        around: async (run) => {
          const smallRead = await run();
          reads.push({ small: smallRead, large: await measure("4b", `GET conversation, ${fmt(LARGE_CONVERSATION)} messages`, largePath) });
          return smallRead;
        },
      });
      // The last load read the large conversation; a short one reads the small one again.
      const heapAfterLarge = await heapMB();
      await runLoad({ baseUrl: s.baseUrl, connections: CONNECTIONS, durationSeconds: HEAP_READ_SECONDS, warmupSeconds: 0, ...smallPath });
      const heapAfterSmall = await heapMB();
      const largeOverSmall = (read: (typeof reads)[number]) => read.large.rps / read.small.rps;
      reads.sort((a, b) => largeOverSmall(a) - largeOverSmall(b));
      rounds["4b"] = reads.map(largeOverSmall);
      const medianRead = reads[Math.floor(reads.length / 2)];
      results.push(medianRead.large);
      log(`     4b over 4a, round by round: ${rounds["4b"].map((r) => fmt(r, 2)).join(", ")}; the median round's 4b is kept`);
      return { small4, heapAfterSmall, heapAfterLarge, readRatio: largeOverSmall(medianRead) };
    };

    /** Scenario 7: scenario 2's load again, now with a webhook, sampled by the probe. */
    const webhookScenario = async () => {
      const started7 = await startProbe<{ port: number }>("webhook-probe.ts");
      probe = started7.child;
      // Counted from what the server stored, not from what autocannon saw answered (it drops the
      // requests in flight when its warm-up and its run end, though the server stores them).
      const storedBefore7 = readConversations(s.persistTo).messageIds;
      const { webhook: hook7 } = await call(s.baseUrl, "POST", "/v1/webhooks", app.server, {
        target: `http://127.0.0.1:${started7.ready.port}/hook`,
        triggers: ["message:appUser"],
      });
      const postUrls = users.map((user) => `${s.baseUrl}/v1/appusers/${user}/conversation/messages`);
      const headers = { "app-token": app.appToken };
      const check = await sample(probe, { postUrls, headers, count: 1, startDelayMs: 0, intervalMs: 0, awaitMs: 15_000 });
      if (check.latencies.length !== 1) throw new Error("webhook: a message posted before the load was not delivered within 15 s");
      /**
       * A load with a probe's samples beside it: posts timed to the load's measured seconds, to
       * the users the load posts to (their objects are in memory, as the load keeps them).
       */
      const withSamples = async <R>(child: ChildProcess, urls: string[], sampleHeaders: Record<string, string>, run: () => Promise<R>) => {
        const sampling = sample(child, {
          postUrls: urls,
          headers: sampleHeaders,
          count: WEBHOOK_SAMPLES,
          startDelayMs: WARMUP_SECONDS * 1000,
          intervalMs: (DURATION_SECONDS * 1000) / WEBHOOK_SAMPLES,
          awaitMs: WEBHOOK_AWAIT_MS,
        });
        const result = await run();
        return { result, sampled: await sampling, ended: Date.now() };
      };
      // Each round's load sampled by the probe, the samples of every round taken together.
      const sampled: SampleResult[] = [];
      const floorSampled: SampleResult[] = [];
      let loadEnded = 0;
      const sampledLoad = async (run: () => Promise<ScenarioResult>) => {
        const round = await withSamples(probe!, postUrls.slice(0, SPREAD), headers, run);
        loadEnded = round.ended;
        sampled.push(round.sampled);
        return round.result;
      };
      // F4d's loads carry the same samples, posted by the floor's own probe: both sides of a pair
      // serve the load's posts and the samples' alike, and only the load's are counted.
      const sampledFloorLoad = async (run: () => Promise<Figures>) => {
        const round = await withSamples(floorProbe!, floorServer!.durableWebhookUrls(), {}, run);
        floorSampled.push(round.sampled);
        return round.result;
      };
      // F4d beside it: the floor's own alarms, and Parley's, fire in the longer pauses.
      await judged("durableWebhook", "7", "post message as in 2, with a webhook", postToUsers, {
        prepare: touchConversations,
        pauseMs: ALARMS_SETTLE_MS,
        around: sampledLoad,
        aroundFloor: sampledFloorLoad,
      });
      // A sampled message that never arrived is later than every one that did.
      const arrivalsOf = (rounds: SampleResult[]) => rounds.flatMap((round) => [...round.latencies, ...Array<number>(round.missing).fill(Infinity)]);
      const floorLatencies = arrivalsOf(floorSampled);
      const floorP50 = finite(percentile(floorLatencies, 50));
      const floorP99 = finite(percentile(floorLatencies, 99));
      log(`     F4d's own samples: webhook arrival p50 ${lateBy(floorP50, WEBHOOK_AWAIT_MS)}, p99 ${lateBy(floorP99, WEBHOOK_AWAIT_MS)}`);
      const hooks = {
        posted: sampled.reduce((sum, round) => sum + round.posted, 0),
        postFailures: sampled.reduce((sum, round) => sum + round.postFailures, 0),
        latencies: sampled.flatMap((round) => round.latencies),
        missing: sampled.reduce((sum, round) => sum + round.missing, 0),
        lastArrival: sampled[sampled.length - 1].lastArrival,
      };
      const stored7 = [...readConversations(s.persistTo).messageIds].filter((id) => !storedBefore7.has(id));
      const settled = await ask<SettleResult>(probe, { type: "settle", messageIds: stored7, awaitMs: WEBHOOK_AWAIT_MS } satisfies SettleRequest);
      await call(s.baseUrl, "DELETE", `/v1/webhooks/${hook7._id}`, app.server);
      const latencies = arrivalsOf(sampled);
      return {
        /** The one message posted before the load: delivery on an idle server. */
        idleLatencyMs: check.latencies[0],
        samples: hooks.posted,
        postFailures: hooks.postFailures,
        delivered: hooks.latencies.length,
        missing: hooks.missing,
        /** null: beyond the wait (some sampled messages had not arrived by then). */
        p50: finite(percentile(latencies, 50)),
        p99: finite(percentile(latencies, 99)),
        max: finite(latencies.length ? Math.max(...latencies) : null),
        /** Every message stored while the webhook existed (the check, the load, the samples). */
        messagesStored: stored7.length,
        deliveriesReceived: settled.deliveries,
        distinctDeliveryIds: settled.distinctDeliveryIds,
        duplicateDeliveries: settled.duplicates,
        missingDeliveries: settled.missing,
        unexpectedDeliveries: settled.unexpected,
        lastArrivalAfterLoadEndMs: hooks.lastArrival === null ? null : Math.round(hooks.lastArrival - loadEnded),
        /** The same samples posted to the floor during F4d's loads, for comparison (not judged). */
        floor: { samples: floorLatencies.length, p50: floorP50, p99: floorP99 },
      };
    };

    /**
     * Scenario 8: scenario 2's load again (no webhook now), with every user's conversation
     * watched by an idle Bayeux client on a WebSocket, and business replies sampled meanwhile.
     */
    const realtimeScenario = async () => {
      const memoryBefore = workerdRss(s.pid).bytes;
      realtimeProbe = (await startProbe<{ type: "ready" }>("realtime-probe.ts")).child;
      const opened = await ask<OpenResult>(realtimeProbe, {
        type: "open",
        baseUrl: s.baseUrl,
        appToken: app.appToken,
        users: subscribees,
        concurrency: SOCKET_CONCURRENCY,
      } satisfies ProbeRequest);
      // Long enough for the objects holding idle sockets to hibernate.
      await new Promise((r) => setTimeout(r, 15_000));
      const memoryIdle = workerdRss(s.pid).bytes;
      log(`  ${fmt(opened.opened)} idle subscribers connected in ${fmt(opened.ms / 1000, 1)} s (${opened.failures} failed); workerd RSS ${fmt(memoryBefore / 2 ** 20)} -> ${fmt(memoryIdle / 2 ** 20)} MB`);
      // Before the samples start: they are timed to the load's.
      await drain();
      const receipts = ask<ReceiptResult>(realtimeProbe, {
        type: "sample",
        baseUrl: s.baseUrl,
        appJwt: app.appJwt,
        count: REALTIME_SAMPLES,
        startDelayMs: WARMUP_SECONDS * 1000,
        intervalMs: (DURATION_SECONDS * 1000) / REALTIME_SAMPLES,
        awaitMs: REALTIME_AWAIT_MS,
      } satisfies ProbeRequest);
      await touchConversations();
      results.push(await measure("8", `post message as in 2, ${fmt(opened.opened)} subscribers connected`, postToUsers));
      const rt = await receipts;
      const receiptLatencies = [...rt.receiptLatencies, ...Array<number>(rt.missing).fill(Infinity)];
      const realtime = {
        idleSubscribers: opened.opened,
        openFailures: opened.failures,
        workerdRssBeforeMB: memoryBefore / 2 ** 20,
        workerdRssIdleMB: memoryIdle / 2 ** 20,
        kbPerIdleSubscriber: opened.opened ? (memoryIdle - memoryBefore) / 1024 / opened.opened : null,
        samples: rt.posted,
        postFailures: rt.postFailures,
        missing: rt.missing,
        postP50: percentile(rt.postLatencies, 50),
        postP99: percentile(rt.postLatencies, 99),
        receiptP50: finite(percentile(receiptLatencies, 50)),
        receiptP99: finite(percentile(receiptLatencies, 99)),
      };
      const ratio = (a: number | null, b: number | null) => (a !== null && b ? a / b : null);
      return { ...realtime, receiptToPostRatio: { p50: ratio(realtime.receiptP50, realtime.postP50), p99: ratio(realtime.receiptP99, realtime.postP99) } };
    };

    log("Scenarios:");
    await scenario("1", "baseline: GET / (no auth)", { path: "/" });
    if (!only) await measureFloor("trivial", "append", "readAppend");
    if (wants("2")) await judged("limitedReadAppend", "2", `post message, app token, ${SPREAD} users`, postToUsers, { prepare: touchConversations });
    const appMakerBody = JSON.stringify({ role: "appMaker", text: "A business reply of ordinary length, about sixty characters." });
    const postAsBusiness = { ...postToUsers, headers: app.server, body: appMakerBody };
    if (wants("2j")) await judged("serverReadAppend", "2j", `post message, app JWT (appMaker), ${SPREAD} users`, postAsBusiness, { prepare: touchConversations });
    if (wants("2c")) {
      // The same as 2 over all the users: slower than 100 posts a second, it comes back to each
      // object after the local runtime has evicted it, and measures posts that wake their object.
      let nextOfAll = 0;
      const anyOfAll = () => ({ path: `/v1/appusers/${users[nextOfAll++ % USERS]}/conversation/messages` });
      await settle();
      await pool(USERS, SETUP_CONCURRENCY, (i) => call(s.baseUrl, "GET", `/v1/appusers/${users[i]}/conversation`, app.token));
      await scenario("2c", `post message, app token, ${fmt(USERS)} users (objects woken)`, { ...postToUsers, ...anyOfAll(), vary: anyOfAll });
    }
    const oneConversation = wants("3") ? await oneConversationScenario() : undefined;
    const reads = wants("4a") || wants("4b") ? await readScenarios() : undefined;
    let device = 0;
    if (wants("5")) {
      await judged("init", "5", "init, a new device each", {
        method: "POST",
        path: "/v1/init",
        headers: app.token,
        vary: () => ({ body: JSON.stringify({ device: { id: `fresh-${++device}`, platform: "web" } }) }),
      });
    }
    const jwt6 = wants("6")
      ? await scenario("6", `GET conversation, ${SMALL_CONVERSATION} messages, app JWT`, { path: `/v1/appusers/${small}/conversation`, headers: app.server })
      : undefined;
    // Before scenario 7's webhook: scenario 11's loads are scenario 2's.
    const indexWanted = INDEX_SCENARIOS.filter(wants);
    const index = indexWanted.length > 0 ? await indexScenarios(new Set(indexWanted)) : undefined;
    const webhook = wants("7") ? await webhookScenario() : undefined;
    const realtime = wants("8") ? await realtimeScenario() : undefined;
    // Last, with F4 (not judged): the alarms its loads leave fire after every load.
    if (!only) await measureFloor("webhook");

    const memory = reads && { heapAfterSmallReadMB: reads.heapAfterSmall, heapAfterLargeReadMB: reads.heapAfterLarge, heapAfterAllLoadMB: await heapMB() };
    inspector.close();

    const floorRatios = Object.fromEntries(Object.entries(floorFigures).map(([name, figures]) => [name, figures.rps / baseline])) as Partial<Record<FloorLoad, number>>;
    const verdicts = judge({
      ratios: Object.fromEntries(results.map((r) => [r.id, r.ratioToBaseline])),
      floor: floorRatios,
      largeReadOverSmall: reads?.readRatio,
      webhookP50: webhook?.p50,
      webhookP99: webhook?.p99,
      oneConversationIncreasing: oneConversation?.receivedStrictlyIncreasing,
      indexLagP50: index?.lag?.p50,
      indexLagP99: index?.lag?.p99,
    });

    /** The floors in the table's order, each with what it does, the ones measured shown. */
    const floorRow = (id: string, load: FloorLoad, name: string) => {
      const figures = floorFigures[load];
      return figures ? [{ id, name: `floor: ${name}`, ...figures, ratioToBaseline: figures.rps / baseline }] : [];
    };
    const late = (n: number | null) => lateBy(n, WEBHOOK_AWAIT_MS);
    log("");
    log(
      table([
        results[0],
        ...floorRow("F1", "append", "bare Durable Object append"),
        ...floorRow("F2", "readAppend", "D1 read + Durable Object append"),
        ...floorRow("F2s", "serverReadAppend", "1 rate limit + D1 read + DO append + durable index feed"),
        ...floorRow("F3", "limitedReadAppend", "2 rate limits + D1 read + DO append + durable index feed"),
        ...floorRow("F4", "webhook", "2 rate limits + D1 read + DO append + queue send + webhook POST"),
        ...floorRow("F4d", "durableWebhook", "F3 + webhook kept durable (outbox, alarm), deduplicated, signed"),
        ...floorRow("F5", "read", "2 rate limits + D1 read + newest 100 messages"),
        ...floorRow("F3c", "oneConversation", "F3 to one conversation, answering its newest 100"),
        ...floorRow("F6", "init", "2 rate limits + D1 read + D1 batch: device, user"),
        ...results.slice(1).filter((r) => !INDEX_SCENARIOS.includes(r.id)),
        ...floorRow("F7", "list", "1 rate limit + D1 query: newest 25 of a plain table"),
        ...floorRow("F8", "search", "1 rate limit + D1 query: FTS5 match, newest 25"),
        ...results.filter((r) => INDEX_SCENARIOS.includes(r.id)),
        ...(index?.lag
          ? [{ id: "11", name: "index lag: 201 → lastMessage in the list, under 11's load", rps: null, p50: index.lag.p50, p99: index.lag.p99, errors: index.lag.missing + index.lag.postFailures, ratioToBaseline: null }]
          : []),
        ...(webhook
          ? [{ id: "7", name: "webhook delivery: 2xx → arrival, under 7's load", rps: null, p50: webhook.p50, p99: webhook.p99, errors: webhook.missing + webhook.postFailures, ratioToBaseline: null }]
          : []),
        ...(realtime
          ? [{ id: "8", name: "realtime: REST post sent → subscriber receipt", rps: null, p50: realtime.receiptP50, p99: realtime.receiptP99, errors: realtime.missing + realtime.postFailures, ratioToBaseline: null }]
          : []),
      ]),
    );
    log("");
    for (const line of verdictLines(verdicts)) log(line);
    log("");
    log(
      `Index: ${fmt(indexDrain.messages)} messages indexed ${fmt(indexDrain.waitAfterSetupSeconds, 1)} s after the setup, ` +
        `${fmt(indexDrain.jobsPerSecondLowerBound)} jobs/s from the seeding's start (a lower bound of the consumer's throughput).`,
    );
    if (reads) log(`4: reading the newest page of ${fmt(LARGE_CONVERSATION)} messages runs at ${fmt(reads.readRatio, 2)}× the rate of ${SMALL_CONVERSATION}.`);
    if (reads && jwt6) log(`6: the app JWT read runs at ${fmt(jwt6.rps / reads.small4.rps, 2)}× the app-token read (4a).`);
    if (webhook) {
      log(
        `7: webhook delivery, from the message's 2xx to its arrival at a target on 127.0.0.1, during scenario 7's load: ` +
          `p50 ${late(webhook.p50)}, p99 ${late(webhook.p99)}, max ${late(webhook.max)} ` +
          `(${webhook.delivered} of ${webhook.samples} sampled messages arrived within ${WEBHOOK_AWAIT_MS / 1000} s` +
          `${webhook.postFailures ? `, ${webhook.postFailures} sample posts failed` : ""}; ` +
          `${fmt(webhook.messagesStored)} messages stored, ${fmt(webhook.deliveriesReceived)} deliveries received under ` +
          `${fmt(webhook.distinctDeliveryIds)} distinct delivery ids: ` +
          `${webhook.duplicateDeliveries} duplicates, ${webhook.missingDeliveries} missing, ${webhook.unexpectedDeliveries} unexpected` +
          `${webhook.duplicateDeliveries + webhook.missingDeliveries + webhook.unexpectedDeliveries === 0 ? " (every stored message delivered exactly once)" : ""}; ` +
          `last ${webhook.lastArrivalAfterLoadEndMs === null ? "n/a" : `${fmt(webhook.lastArrivalAfterLoadEndMs / 1000, 1)} s`} after the load ended; ` +
          `${fmt(webhook.idleLatencyMs)} ms for one message before the load).`,
      );
    }
    if (realtime) {
      log(
        `8: ${fmt(realtime.idleSubscribers)} idle WebSocket subscribers held at once, workerd RSS ${fmt(realtime.workerdRssBeforeMB)} -> ` +
          `${fmt(realtime.workerdRssIdleMB)} MB (${realtime.kbPerIdleSubscriber === null ? "n/a" : fmt(realtime.kbPerIdleSubscriber)} KB each); ` +
          `under 8's load, a business reply reached its subscriber ${late(realtime.receiptP50)} (p50) / ${late(realtime.receiptP99)} (p99) after ` +
          `it was sent, against ${fmt(realtime.postP50 ?? 0)} / ${fmt(realtime.postP99 ?? 0)} ms for the post's own response: ` +
          `${fmt(realtime.receiptToPostRatio.p50 ?? 0, 2)}× / ${fmt(realtime.receiptToPostRatio.p99 ?? 0, 2)}× (${realtime.samples - realtime.missing} of ${realtime.samples} arrived).`,
      );
    }
    if (memory) {
      log(
        `Worker live memory (after a full collection): ${fmt(memory.heapAfterSmallReadMB, 1)} MB after reading the ${SMALL_CONVERSATION}-message ` +
          `conversation, ${fmt(memory.heapAfterLargeReadMB, 1)} MB after the ${fmt(LARGE_CONVERSATION)}-message one, ` +
          `${fmt(memory.heapAfterAllLoadMB, 1)} MB after all the load.`,
      );
    }
    if (only) {
      log(`Only ${[...only].join(", ")} ran (--only): ${RESULTS} is left as it was; whole run ${elapsed(started)}.`);
      return;
    }

    const floor = floorFigures as Record<FloorLoad, Figures>;
    const floorRecord = (load: FloorLoad) => ({ ...floor[load], ratioToBaseline: floor[load].rps / baseline });
    const record = {
      date: new Date().toISOString(),
      machine: machine(),
      settings: {
        connections: CONNECTIONS,
        durationSeconds: DURATION_SECONDS,
        warmupSeconds: WARMUP_SECONDS,
        rateLimitsRaisedTo: BENCH_RATE_LIMIT,
        pairsPerJudgedScenario: ROUNDS,
        wranglerLogLevel: "warn",
        conversationSeeding: `${SEED_BATCH} whisper rules on one event; each tracked event appends ${SEED_BATCH} messages in one call`,
      },
      /**
       * The index's consumer after the setup: the messages it held, how long after the setup it held
       * them all, and their count over the seconds from the seeding's start (a lower bound of its throughput).
       */
      indexDrainAfterSetup: indexDrain,
      scenarios: results,
      floor: {
        worker: "test/bench/floor/worker.ts",
        bareDurableObjectAppend: floorRecord("append"),
        d1ReadThenAppend: floorRecord("readAppend"),
        oneRateLimitThenD1ReadThenAppendWithDurableIndexFeed: floorRecord("serverReadAppend"),
        twoRateLimitsThenD1ReadThenAppendWithDurableIndexFeed: floorRecord("limitedReadAppend"),
        twoRateLimitsThenD1ReadThenAppendThenQueueSendAndWebhookPost: floorRecord("webhook"),
        withDurableIndexFeedAndWebhookKeptDurableDeduplicatedAndSigned: floorRecord("durableWebhook"),
        twoRateLimitsThenD1ReadThenNewest100: floorRecord("read"),
        withDurableIndexFeedToOneConversationAnsweringItsNewest100: floorRecord("oneConversation"),
        twoRateLimitsThenD1ReadThenDeviceAndUserWritten: floorRecord("init"),
        oneRateLimitThenNewest25OfAPlainTable: floorRecord("list"),
        oneRateLimitThenFts5MatchNewest25: floorRecord("search"),
        ownTrivialRoute: floor.trivial,
      },
      targets: verdicts,
      /** Each pair's scenario rate over its floor's, lowest first; the median pair is the one in `scenarios` and `floor`. */
      roundsOverFloor: rounds,
      oneConversation,
      conversationReadRatio: { largeToSmallRps: reads!.readRatio, small: SMALL_CONVERSATION, large: LARGE_CONVERSATION },
      jwtToAppTokenReadRatio: jwt6!.rps / reads!.small4.rps,
      webhookDelivery: webhook,
      /** The index the reads ran on, and scenario 11's lag samples taken together (ms; null: beyond the wait). */
      conversationIndex: index,
      realtime,
      workerMemory: memory,
      totalSeconds: (Date.now() - started) / 1000,
    };
    writeJson(RESULTS, record);
    const m = record.machine;
    log(`Machine: ${m.os}, ${m.cpuCount} × ${m.cpuModel}, ${m.memoryGB} GB, Node ${m.node}; ${record.date}.`);
    log(`Figures written to ${RESULTS}; whole run ${elapsed(started)}.`);
  } finally {
    await cleanup();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
