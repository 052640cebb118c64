// Shared pieces of the fault suite: an HTTP client for the API that never throws, app and user
// setup (on test/support), a local webhook target, message paging, workerd memory from /proc and
// a read-only look at the local state files.
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { createApp as createAppVia, type App } from "../support/apps.ts";
import { httpSend, type Reply as Answer } from "../support/http.ts";
import { bearer, type Signer } from "../support/jwt.ts";
import { pool, sleep } from "../support/pace.ts";
import { initUser } from "../support/users.ts";

export const log = (line: string) => console.log(`  ${line}`);

/** A failed expectation: collected per check, so one run reports every broken property. */
export class Failures {
  readonly list: string[] = [];
  check(ok: boolean, message: string): boolean {
    if (!ok) this.list.push(message);
    return ok;
  }
}

/** The fault suite's JWTs outlive its longest check. */
const JWT_EXPIRY = "2h";

export interface Reply extends Answer {
  ms: number;
}

/** What a request ended with: an HTTP answer, or no answer at all (connection lost, timeout). */
export type Outcome = Reply | { status: 0; error: string; ms: number };

export interface RequestOptions {
  jwt?: string;
  body?: unknown;
  form?: FormData;
  timeoutMs?: number;
}

/** One API call; never throws, so load loops can classify every outcome. */
export async function request(baseUrl: string, method: string, path: string, options: RequestOptions = {}): Promise<Outcome> {
  const send = httpSend(baseUrl, { timeoutMs: options.timeoutMs });
  const started = performance.now();
  try {
    const { status, json } = await send(method, path, options.jwt ? bearer(options.jwt) : {}, options.form ?? options.body);
    return { status, json, ms: performance.now() - started };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { status: 0, error: cause ?? (error instanceof Error ? error.message : String(error)), ms: performance.now() - started };
  }
}

/** Like request, but anything other than the expected status is an error (setup steps). */
export async function expectStatus(
  baseUrl: string,
  method: string,
  path: string,
  status: number,
  options: RequestOptions = {},
): Promise<any> {
  const outcome = await request(baseUrl, method, path, options);
  if (outcome.status !== status) {
    throw new Error(`${method} ${path}: expected ${status}, got ${outcome.status} ${JSON.stringify("json" in outcome ? outcome.json : outcome.error)}`);
  }
  return (outcome as Reply).json;
}

/** An app and a key made through the account API, as the briefing describes. */
export const createApp = (baseUrl: string, account: Signer, name: string): Promise<App> =>
  createAppVia(httpSend(baseUrl), account, { name, keyName: "faults", exp: JWT_EXPIRY });

export interface User {
  index: number;
  userId: string;
  /** The app user's _id. */
  id: string;
  jwt: string;
}

/**
 * Creates users through init with their own appUser JWTs: each user then spends its own
 * rate-limit budget, so load spread over many users stays under the per-user limit.
 */
export async function initUsers(baseUrl: string, app: App, prefix: string, count: number): Promise<User[]> {
  const send = httpSend(baseUrl);
  return pool(count, 8, async (index) => {
    const userId = `${prefix}-${index}`;
    const jwt = await app.userJwt(userId);
    const appUser = await initUser(send, bearer(jwt), { id: `${userId}-device-0`, platform: "other" }, userId);
    return { index, userId, id: appUser._id, jwt };
  });
}

export interface StoredMessage {
  _id: string;
  authorId: string;
  role: string;
  text: string;
  received: number;
  mediaUrl?: string;
  [field: string]: unknown;
}

/** Every message of a user's conversation, oldest first, following the `next` links. */
export async function allMessages(baseUrl: string, user: User, maxPages = 200): Promise<StoredMessage[]> {
  const messages: StoredMessage[] = [];
  let url = `${baseUrl}/v1/appusers/${user.id}/messages?after=0`;
  for (let page = 0; page < maxPages; page++) {
    const json = await expectStatus(baseUrl, "GET", url, 200, { jwt: user.jwt });
    messages.push(...json.messages);
    if (!json.next) return messages;
    url = json.next;
  }
  throw new Error(`messages of ${user.userId}: more than ${maxPages} pages`);
}

export interface Arrival {
  deliveryId: string;
  messageId: string;
  at: number;
}

type TargetMode = "up" | "reset";

/**
 * A webhook target on 127.0.0.1 that records every delivery by message _id and
 * X-Parley-Delivery. "up" answers 200; "reset" reads the request, records the attempt, then
 * drops the connection without an answer (a target that is down, seen from the sender).
 * close() stops listening, so that connecting is refused; listen() comes back on the same port.
 */
export class WebhookTarget {
  /** Deliveries answered with 200. */
  readonly delivered: Arrival[] = [];
  /** Attempts dropped in "reset" mode. */
  readonly dropped: Arrival[] = [];
  mode: TargetMode = "up";
  port = 0;
  private server: Server;
  private readonly sockets = new Set<Socket>();

  constructor() {
    this.server = this.makeServer();
  }

  get url() {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  private makeServer(): Server {
    const server = createServer((req, res) => this.handle(req, res));
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    return server;
  }

  private handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      let messageId = "?";
      try {
        messageId = JSON.parse(Buffer.concat(chunks).toString()).messages[0]._id;
      } catch {
        // Recorded with "?": the check then finds a delivery it cannot match.
      }
      const arrival = { deliveryId: String(req.headers["x-parley-delivery"] ?? ""), messageId, at: Date.now() };
      if (this.mode === "reset") {
        this.dropped.push(arrival);
        req.socket.destroy();
        return;
      }
      this.delivered.push(arrival);
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  }

  async listen(port = this.port): Promise<void> {
    this.server = this.makeServer();
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", () => resolve());
    });
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Stops listening and drops kept-alive connections, so that nothing reaches the target. */
  async close(): Promise<void> {
    const closed = new Promise((resolve) => this.server.close(resolve));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  deliveredIds(): Set<string> {
    return new Set(this.delivered.map((a) => a.messageId));
  }
}

/** Whether any process of the group is still alive. */
export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitGroupGone(pid: number, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (groupAlive(pid) && Date.now() < deadline) await sleep(50);
  return !groupAlive(pid);
}

/** The q-quantile (0..1) of a list of numbers. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;


/**
 * The worker isolate's JavaScript heap, read through wrangler's inspector proxy (the port
 * startDevServer passed as --inspector-port). The worker and its Durable Objects share this
 * isolate, so it is the memory Parley's code holds, apart from the runtime's own.
 */
export async function openInspector(groupPid: number): Promise<{ liveHeap: () => Promise<number | null>; close: () => void }> {
  const args = readFileSync(`/proc/${groupPid}/cmdline`, "utf8").split("\0");
  const port = args[args.indexOf("--inspector-port") + 1];
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as { webSocketDebuggerUrl: string }[];
  // The proxy only lets devtools origins in; undici's WebSocket takes extra headers.
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl, { headers: { origin: "http://127.0.0.1" } } as never);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`inspector on port ${port} refused the connection`));
  });
  let lastId = 0;
  const waiting = new Map<number, (message: any) => void>();
  // Events (the snapshot's chunks among them) carry no id and are dropped.
  ws.onmessage = (event) => {
    const message = JSON.parse(String(event.data));
    waiting.get(message.id)?.(message);
    waiting.delete(message.id);
  };
  const call = async (method: string, params: object, timeoutMs: number): Promise<any> => {
    if (ws.readyState !== WebSocket.OPEN) return null;
    const id = ++lastId;
    const answer = await Promise.race([
      new Promise<any>((resolve) => {
        waiting.set(id, resolve);
        ws.send(JSON.stringify({ id, method, params }));
      }),
      sleep(timeoutMs).then(() => null),
    ]);
    waiting.delete(id);
    return answer;
  };
  /**
   * The memory that survives a full collection: JS heap, embedder objects and ArrayBuffer
   * backing stores (bodies, byte arrays), which live outside the JS heap. workerd's inspector does
   * not answer HeapProfiler.collectGarbage, but a heap snapshot collects everything first.
   */
  const liveHeap = async (): Promise<number | null> => {
    if (!(await call("HeapProfiler.takeHeapSnapshot", { reportProgress: false }, 30_000))) return null;
    const usage = (await call("Runtime.getHeapUsage", {}, 5_000))?.result;
    return usage ? usage.usedSize + (usage.embedderHeapUsedSize ?? 0) + (usage.backingStorageSize ?? 0) : null;
  };
  return { liveHeap, close: () => ws.close() };
}

function sqliteFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(".sqlite")) found.push(join(entry.parentPath, entry.name));
  }
  return found;
}

/**
 * Reads SQLite databases of the local state without touching them: each file is copied with
 * its WAL first, so that opening it (which replays and checkpoints the WAL) happens on the copy.
 */
export function readStateDatabases<T>(dir: string, read: (db: DatabaseSync, file: string) => T): T[] {
  const scratch = mkdtempSync(join(tmpdir(), "parley-faults-sqlite-"));
  try {
    return sqliteFiles(dir).map((file, i) => {
      const copy = join(scratch, `${i}.sqlite`);
      copyFileSync(file, copy);
      for (const suffix of ["-wal", "-shm"]) if (existsSync(file + suffix)) copyFileSync(file + suffix, copy + suffix);
      const db = new DatabaseSync(copy);
      try {
        return read(db, file);
      } finally {
        db.close();
      }
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const hasTable = (db: DatabaseSync, name: string) =>
  db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;

/** What the Conversation objects hold on disk: stored message ids and the outbox's pending jobs. */
export function readConversations(persistTo: string): { messageIds: Set<string>; outboxByMessage: Map<string, string[]> } {
  const messageIds = new Set<string>();
  const outboxByMessage = new Map<string, string[]>();
  const doDir = join(persistTo, "v3", "do");
  readStateDatabases(doDir, (db) => {
    if (hasTable(db, "messages")) {
      for (const row of db.prepare("SELECT id FROM messages").all()) messageIds.add(String(row.id));
    }
    if (hasTable(db, "outbox")) {
      for (const row of db.prepare("SELECT job FROM outbox").all()) {
        const job = JSON.parse(String(row.job));
        outboxByMessage.set(job.messageId, [...(outboxByMessage.get(job.messageId) ?? []), job.deliveryId]);
      }
    }
  });
  return { messageIds, outboxByMessage };
}

export interface DeliveryRow {
  id: string;
  message_id: string;
  attempts: number;
  outcome: string;
  last_error: string | null;
}

/** The D1 delivery log (webhook_deliveries), read from the local state. */
export function readDeliveryLog(persistTo: string): DeliveryRow[] {
  const rows: DeliveryRow[] = [];
  readStateDatabases(join(persistTo, "v3", "d1"), (db) => {
    if (!hasTable(db, "webhook_deliveries")) return;
    for (const row of db.prepare("SELECT id, message_id, attempts, outcome, last_error FROM webhook_deliveries").all()) {
      rows.push(row as unknown as DeliveryRow);
    }
  });
  return rows;
}

/** Prints a check's figures as aligned "name: value" lines. */
export function figures(rows: [string, string | number][]): void {
  const width = Math.max(...rows.map(([name]) => name.length));
  for (const [name, value] of rows) log(`${name.padEnd(width)}  ${value}`);
}
