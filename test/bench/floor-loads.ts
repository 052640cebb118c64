// The floor's loads (test/bench/floor/worker.ts on its own wrangler dev), each measured when the
// benchmark calls it: right beside the Parley scenario judged against it, so that the machine's
// drift over a run (the same load varies by a third from one run to the next) reaches both alike.
import { join } from "node:path";
import { startDevServer, type DevServer } from "../support/dev-server.ts";
import { pool } from "../support/pace.ts";
import { readStateDatabases } from "../support/workerd.ts";
import { SPREAD, writeFloorConfig } from "./config.ts";
import { waitNone } from "./index-copy.ts";
import type { Figures, LoadOptions } from "./load.ts";

export type FloorLoad = "trivial" | "append" | "readAppend" | "serverReadAppend" | "limitedReadAppend" | "webhook" | "durableWebhook" | "read" | "oneConversation" | "init" | "list" | "search";

/** Parley's conversation index, as the floor copies it (test/bench/floor/worker.ts, POST /index-rows). */
export interface IndexCopy {
  appId: string;
  /** The words both searches look for. */
  q: string;
  conversations: { id: string; appId: string; lastActivity: number; appUser: string; entry: string }[];
  messages: { seq: number; conversation: string; text: string; message: string }[];
}

export interface Floor {
  measure(load: FloorLoad): Promise<Figures>;
  /** The URLs the durable webhook's load posts to, one for each of its users. */
  durableWebhookUrls(): string[];
  /** Copies Parley's index into the floor's tables: F7 and F8 read it. */
  copyIndex(copy: IndexCopy): Promise<void>;
  /**
   * Waits until the floor's index feed holds every message fed to it (or `waitMs` passed);
   * returns how many it does not hold.
   */
  waitFed(waitMs: number): Promise<number>;
  stop(): Promise<void>;
}

/** Objects touched before a posting load, and messages in the conversation a read shows. */
const SETUP_CONCURRENCY = 16;
const PAGE = 100;
/** Rows of the index copy per request. */
const COPY_CHUNK = 500;

/** The sum over the SQLite files under `dir` of `count`'s answer, in those that hold `table`. */
const countRows = (dir: string, table: string, count: string) =>
  readStateDatabases(dir, (db) => (db.prepare("SELECT 1 FROM sqlite_master WHERE name = ?").get(table) ? Number(db.prepare(count).get()?.n) : 0)).reduce(
    (sum, n) => sum + n,
    0,
  );

type Load = (baseUrl: string, options: Omit<LoadOptions, "baseUrl" | "connections" | "durationSeconds" | "warmupSeconds">) => Promise<Figures>;

/**
 * Starts the floor's server, with its webhook target (`hookProbe`, its own, so that Parley's
 * delivery counts stay Parley's). `body` is the message each post sends.
 */
export async function startFloor(dir: string, hookTarget: string, body: string, load: Load): Promise<Floor> {
  const server: DevServer = await startDevServer({ config: writeFloorConfig(dir, hookTarget), logLevel: "warn" });
  const baseUrl = server.baseUrl;
  const post = (path: string) => fetch(`${baseUrl}${path}`, { method: "POST", body }).then((r) => r.text());
  // Each object in memory first, as Parley's are before their loads.
  const touch = () => pool(SPREAD, SETUP_CONCURRENCY, (i) => post(`/append/c${i}`));
  let n = 0;
  const spread = async (route: string, prefix: string) => {
    await touch();
    return load(baseUrl, {
      method: "POST",
      path: `/${route}/${prefix}0`,
      body,
      vary: () => ({ path: `/${route}/${prefix}${n++ % SPREAD}` }),
    });
  };
  // u0's conversation holds at least the messages of a page.
  const filled = pool(PAGE, 1, () => post("/append/c0"));
  let device = 0;
  let index: { appId: string; q: string } | undefined;
  const copied = () => {
    if (!index) throw new Error("the floor's list and search run on a copy of Parley's index: copyIndex first");
    return index;
  };
  const copyIndex = async ({ appId, q, conversations, messages }: IndexCopy) => {
    const send = async (rows: Omit<IndexCopy, "appId" | "q">) => {
      const response = await fetch(`${baseUrl}/index-rows`, { method: "POST", body: JSON.stringify(rows) });
      if (!response.ok) throw new Error(`floor: copying the index failed (${response.status}): ${await response.text()}`);
    };
    await send({ conversations, messages: [] });
    for (let i = 0; i < messages.length; i += COPY_CHUNK) await send({ conversations: [], messages: messages.slice(i, i + COPY_CHUNK) });
    index = { appId, q };
  };
  const loads: Record<FloorLoad, () => Promise<Figures>> = {
    trivial: () => load(baseUrl, { path: "/" }),
    append: () => spread("append", "c"),
    readAppend: () => spread("read-append", "u"),
    serverReadAppend: () => spread("server-read-append", "u"),
    limitedReadAppend: () => spread("limited-read-append", "u"),
    webhook: () => spread("webhook-append", "u"),
    durableWebhook: () => spread("durable-webhook-append", "u"),
    read: async () => (await filled, load(baseUrl, { path: "/read/u0" })),
    oneConversation: async () => (await filled, load(baseUrl, { method: "POST", path: "/conversation-append/u0", body })),
    init: () => load(baseUrl, { method: "POST", path: "/init/d0", vary: () => ({ path: `/init/d${++device}` }) }),
    list: () => load(baseUrl, { path: `/list/${copied().appId}` }),
    search: () => load(baseUrl, { path: `/search/${copied().appId}?q=${encodeURIComponent(copied().q)}` }),
  };
  const state = (kind: string) => join(server.persistTo, "v3", kind);
  // Counts, not ids: a message the feed indexes is one its objects marked fed.
  const feedBacklog = () =>
    countRows(state("do"), "messages", "SELECT COUNT(*) AS n FROM messages WHERE fed = 1") -
    countRows(state("d1"), "feed_messages", "SELECT COUNT(*) AS n FROM feed_messages");
  return {
    measure: (name) => loads[name](),
    durableWebhookUrls: () => Array.from({ length: SPREAD }, (_, i) => `${baseUrl}/durable-webhook-append/u${i}`),
    copyIndex,
    waitFed: (waitMs) => waitNone(feedBacklog, waitMs),
    stop: () => server.stop(),
  };
}
