// Shared pieces of the fault suite: an HTTP client for the API that never throws, app and user
// setup (on test/support), a local webhook target, message paging, workerd memory from /proc and
// a read-only look at the local state files.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { createApp as createAppVia, type App } from "../support/apps.ts";
import { signalGroup } from "../support/dev-server.ts";
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

/** One post of a posting load. */
export interface Post {
  user: User;
  /** Its place among its user's posts. */
  seq: number;
  text: string;
  /** HTTP status, or 0 when no answer came (the kill cut the connection); -1 while in flight. */
  status: number;
  id?: string;
}

export interface PostingLoad {
  posts: Post[];
  startedAt: number;
  inFlight: () => number;
  stop: () => void;
  /** Settles once every worker stopped (stopped, or the limits reached). */
  done: Promise<unknown>;
}

/**
 * Posts appUser messages with the users' own JWTs, `concurrency` at a time: each worker owns a
 * fixed set of users and posts for them in turn, so a user's posts are sequential, and the order
 * they were acknowledged in is the order they must be stored in.
 */
export function postingLoad(
  baseUrl: string,
  users: User[],
  options: { concurrency: number; maxMs: number; maxRequests: number; textOf: (user: User, seq: number) => string },
): PostingLoad {
  const posts: Post[] = [];
  let stopped = false;
  let inFlight = 0;
  const startedAt = Date.now();
  const done = Promise.all(
    Array.from({ length: options.concurrency }, async (_, worker) => {
      const owned = users.filter((u) => u.index % options.concurrency === worker);
      for (let turn = 0; !stopped && posts.length < options.maxRequests && Date.now() - startedAt < options.maxMs; turn++) {
        const user = owned[turn % owned.length];
        const seq = Math.floor(turn / owned.length);
        const post: Post = { user, seq, text: options.textOf(user, seq), status: -1 };
        posts.push(post);
        inFlight++;
        const outcome = await request(baseUrl, "POST", `/v1/appusers/${user.id}/messages`, {
          jwt: user.jwt,
          body: { role: "appUser", text: post.text },
          timeoutMs: 15_000,
        });
        inFlight--;
        post.status = outcome.status;
        if (outcome.status === 201 && "json" in outcome) post.id = outcome.json.message._id;
      }
    }),
  );
  return { posts, startedAt, inFlight: () => inFlight, stop: () => (stopped = true), done };
}

/**
 * Kills the (frozen) server's process group under its posting load, stops the load, and waits for
 * both to be gone; returns when it was killed.
 */
export async function killUnderLoad(server: { pid: number; stop: () => Promise<void> }, load: PostingLoad, failures: Failures): Promise<number> {
  const killedAt = Date.now();
  signalGroup(server.pid, "SIGKILL");
  load.stop();
  failures.check(await waitGroupGone(server.pid), "the killed process group did not go away");
  await load.done;
  await server.stop();
  return killedAt;
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
 * drops the connection without an answer (a target that is down, seen from the sender);
 * `answerAfterMs` delays every answer (a slow target).
 * close() stops listening, so that connecting is refused; listen() comes back on the same port.
 */
export class WebhookTarget {
  /** Deliveries answered with 200. */
  readonly delivered: Arrival[] = [];
  /** Attempts dropped in "reset" mode. */
  readonly dropped: Arrival[] = [];
  mode: TargetMode = "up";
  answerAfterMs = 0;
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
      setTimeout(() => res.writeHead(200, { "content-type": "text/plain" }).end("ok"), this.answerAfterMs);
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

/** Prints a check's figures as aligned "name: value" lines. */
export function figures(rows: [string, string | number][]): void {
  const width = Math.max(...rows.map(([name]) => name.length));
  for (const [name, value] of rows) log(`${name.padEnd(width)}  ${value}`);
}

/**
 * Freezes the server's process group (SIGSTOP) until `ready` says the state on disk is what a
 * crash should find, letting it run a moment between looks; returns the number of looks, with
 * the group left frozen for the caller's SIGKILL. Gives up waiting after `maxProbes` looks.
 */
export async function freezeWhen(pid: number, ready: () => boolean, maxProbes: number): Promise<number> {
  for (let probes = 1; ; probes++) {
    signalGroup(pid, "SIGSTOP");
    if (ready() || probes >= maxProbes) return probes;
    signalGroup(pid, "SIGCONT");
    await sleep(20 + Math.random() * 80);
  }
}
