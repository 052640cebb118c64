// Scenario 7's measuring end, in its own process so that the load generator's busy event loop
// does not delay its clocks: a webhook target on 127.0.0.1 that notes when each message arrives,
// and a sampling client that posts messages during the load and notes when each 2xx came back.
// Parley's scenario and its floor (F4d) each have a probe of their own, sampling alike.
import { createServer } from "node:http";
import { performance } from "node:perf_hooks";
import { sleep } from "../support/pace.ts";

export interface SampleRequest {
  type: "sample";
  /** Where to post: a message's URL for each user the load posts to, and the headers it needs. */
  postUrls: string[];
  headers: Record<string, string>;
  count: number;
  startDelayMs: number;
  intervalMs: number;
  /** How long to wait, after the last post, for the sampled messages to arrive. */
  awaitMs: number;
}

/** After the load: wait until every message the server stored has been delivered, or the time is up. */
export interface SettleRequest {
  type: "settle";
  messageIds: string[];
  awaitMs: number;
}

export interface SettleResult {
  type: "settled";
  /** Stored messages no delivery brought, and deliveries of messages not in the list. */
  missing: number;
  unexpected: number;
  /** Every delivery the target got, its distinct delivery ids, and how many repeated one already seen. */
  deliveries: number;
  distinctDeliveryIds: number;
  duplicates: number;
}

export interface SampleResult {
  type: "result";
  posted: number;
  postFailures: number;
  /** Milliseconds from each sampled message's 2xx to its delivery, in posting order. */
  latencies: number[];
  missing: number;
  /** Every delivery the target got, sampled or not, and how many repeated a delivery id. */
  deliveries: number;
  duplicates: number;
  /** Epoch milliseconds of the last delivery seen. */
  lastArrival: number | null;
}

const now = () => performance.timeOrigin + performance.now();
const arrivals = new Map<string, number>();
const deliveryIds = new Set<string>();
let deliveries = 0;
let duplicates = 0;
let lastArrival: number | null = null;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const at = now();
    res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    deliveries++;
    lastArrival = at;
    const deliveryId = String(req.headers["x-parley-delivery"] ?? "");
    if (deliveryIds.has(deliveryId)) duplicates++;
    deliveryIds.add(deliveryId);
    try {
      for (const message of JSON.parse(Buffer.concat(chunks).toString()).messages ?? []) {
        if (!arrivals.has(message._id)) arrivals.set(message._id, at);
      }
    } catch {
      // Not a delivery body; counted above all the same.
    }
  });
});

async function sample(request: SampleRequest): Promise<SampleResult> {
  await sleep(request.startDelayMs);
  const posted: { id: string; at: number }[] = [];
  let postFailures = 0;
  const start = now();
  for (let i = 0; i < request.count; i++) {
    await sleep(start + i * request.intervalMs - now());
    const url = request.postUrls[(i * 7919) % request.postUrls.length];
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { ...request.headers, "content-type": "application/json" },
        body: JSON.stringify({ role: "appUser", text: `sampled message ${i}` }),
        signal: AbortSignal.timeout(10_000),
      });
      const at = now();
      const body = await response.json();
      if (response.ok) posted.push({ id: body.message._id, at });
      else postFailures++;
    } catch {
      postFailures++;
    }
  }
  const deadline = now() + request.awaitMs;
  while (now() < deadline && posted.some(({ id }) => !arrivals.has(id))) await sleep(100);
  const latencies = posted.filter(({ id }) => arrivals.has(id)).map(({ id, at }) => arrivals.get(id)! - at);
  return {
    type: "result",
    posted: posted.length,
    postFailures,
    latencies,
    missing: posted.length - latencies.length,
    deliveries,
    duplicates,
    lastArrival,
  };
}

async function settle(request: SettleRequest): Promise<SettleResult> {
  const expected = new Set(request.messageIds);
  const deadline = now() + request.awaitMs;
  const missing = () => [...expected].filter((id) => !arrivals.has(id)).length;
  while (now() < deadline && missing() > 0) await sleep(100);
  return {
    type: "settled",
    missing: missing(),
    unexpected: [...arrivals.keys()].filter((id) => !expected.has(id)).length,
    deliveries,
    distinctDeliveryIds: deliveryIds.size,
    duplicates,
  };
}

if (process.send) {
  // The benchmark that forked us is gone: nothing left to measure for.
  process.on("disconnect", () => process.exit(0));
  process.on("message", async (message: SampleRequest | SettleRequest) => {
    process.send!(message.type === "sample" ? await sample(message) : await settle(message));
  });
  server.listen(0, "127.0.0.1", () => {
    process.send!({ type: "ready", port: (server.address() as { port: number }).port });
  });
}
