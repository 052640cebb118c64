// Scenario 8's far end, in its own process so that the load generator's event loop does not
// delay its clocks: many idle Bayeux clients on WebSockets, one per user, each subscribed to its
// user's conversation and sending its next connect whenever one is answered, as faye does; then
// sampled business replies over REST, timed from the post to the response and from the post to
// the subscriber's receipt.
import { performance } from "node:perf_hooks";
import { pool, sleep } from "../support/pace.ts";

export interface Subscribee {
  id: string;
  conversationId: string;
}

export type ProbeRequest =
  | { type: "open"; baseUrl: string; appToken: string; users: Subscribee[]; concurrency: number }
  | { type: "sample"; baseUrl: string; appJwt: string; count: number; startDelayMs: number; intervalMs: number; awaitMs: number };

export interface OpenResult {
  type: "opened";
  opened: number;
  failures: number;
  ms: number;
}

export interface ReceiptResult {
  type: "receipts";
  posted: number;
  postFailures: number;
  /** Milliseconds from sending each sampled post to its 2xx. */
  postLatencies: number[];
  /** Milliseconds from sending each sampled post to its subscriber's receipt. */
  receiptLatencies: number[];
  missing: number;
}

const now = () => performance.now();
const received = new Map<string, number>();
const sockets: WebSocket[] = [];
let users: Subscribee[] = [];

async function openOne(baseUrl: string, appToken: string, user: Subscribee): Promise<void> {
  const handshake = await fetch(`${baseUrl}/faye`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify([{ channel: "/meta/handshake", version: "1.0", supportedConnectionTypes: ["websocket"], id: "h" }]),
  });
  const [{ clientId }] = await handshake.json();
  const socket = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/faye`);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => resolve(), { once: true });
    socket.addEventListener("error", () => reject(new Error("socket failed to open")), { once: true });
  });
  let connects = 0;
  const connect = () => ({ channel: "/meta/connect", clientId, connectionType: "websocket", id: `c${connects++}` });
  const subscribed = new Promise<void>((resolve, reject) => {
    socket.addEventListener("message", (event) => {
      for (const frame of JSON.parse(String(event.data))) {
        if (frame.data?.text && !received.has(frame.data.text)) received.set(frame.data.text, now());
        // As faye does: each answered connect is followed by the next, or the server closes the socket as gone quiet.
        if (frame.channel === "/meta/connect" && frame.successful) socket.send(JSON.stringify([connect()]));
        if (frame.id === "s") {
          if (frame.successful) resolve();
          else reject(new Error(frame.error));
        }
      }
    });
  });
  socket.send(
    JSON.stringify([
      connect(),
      { channel: "/meta/subscribe", clientId, subscription: `/v1/conversations/${user.conversationId}`, id: "s", ext: { appUserId: user.id, appToken } },
    ]),
  );
  await subscribed;
  sockets.push(socket);
}

async function open(request: Extract<ProbeRequest, { type: "open" }>): Promise<OpenResult> {
  const started = now();
  users = request.users;
  let failures = 0;
  await pool(request.users.length, request.concurrency, (i) =>
    openOne(request.baseUrl, request.appToken, request.users[i]).catch(() => {
      failures++;
    }),
  );
  return { type: "opened", opened: sockets.length, failures, ms: now() - started };
}

async function sample(request: Extract<ProbeRequest, { type: "sample" }>): Promise<ReceiptResult> {
  await sleep(request.startDelayMs);
  const posts: { text: string; sent: number; answered: number }[] = [];
  let postFailures = 0;
  const start = now();
  for (let i = 0; i < request.count; i++) {
    await sleep(start + i * request.intervalMs - now());
    const user = users[(i * 7919) % users.length];
    const text = `realtime sample ${i}`;
    const sent = now();
    try {
      const response = await fetch(`${request.baseUrl}/v1/appusers/${user.id}/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${request.appJwt}`, "content-type": "application/json" },
        body: JSON.stringify({ role: "appMaker", text }),
        signal: AbortSignal.timeout(10_000),
      });
      await response.body?.cancel();
      if (response.ok) posts.push({ text, sent, answered: now() });
      else postFailures++;
    } catch {
      postFailures++;
    }
  }
  const deadline = now() + request.awaitMs;
  while (now() < deadline && posts.some(({ text }) => !received.has(text))) await sleep(50);
  const arrived = posts.filter(({ text }) => received.has(text));
  return {
    type: "receipts",
    posted: posts.length,
    postFailures,
    postLatencies: posts.map(({ sent, answered }) => answered - sent),
    receiptLatencies: arrived.map(({ text, sent }) => received.get(text)! - sent),
    missing: posts.length - arrived.length,
  };
}

if (process.send) {
  process.on("disconnect", () => {
    for (const socket of sockets) socket.close();
    process.exit(0);
  });
  process.on("message", async (message: ProbeRequest) => {
    process.send!(message.type === "open" ? await open(message) : await sample(message));
  });
  process.send({ type: "ready" });
}
