import { createExecutionContext, createMessageBatch, env, getQueueResult, runInDurableObject } from "cloudflare:test";
import { expect, vi } from "vitest";
import { exports } from "cloudflare:workers";
import { Conversation } from "../../../src/conversation/object/conversation";
import type { ConversationMessage } from "../../../src/model/message";
import worker from "../../../src/index";
import type { DeliveryJob } from "../../../src/channels/webhooks/delivery";
import { createApp as createAppVia, type App } from "../../support/apps.ts";
import { parseBody, type Send } from "../../support/http.ts";
import { accountJwt, bearer, sign, unsignedJwt } from "../../support/jwt.ts";

export const BASE = "https://parley.test";

export interface Call {
  body?: unknown;
  headers?: Record<string, string>;
  raw?: BodyInit;
}

/** Calls the worker through its real fetch handler and returns status, headers and JSON. */
export async function call(method: string, path: string, auth: Record<string, string> = {}, options: Call = {}) {
  const headers: Record<string, string> = { ...auth, ...options.headers };
  let body: BodyInit | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await exports.default.fetch(new Request(`${BASE}${path}`, { method, headers, body }));
  const text = await response.text();
  const json: any = text ? parseBody(text) : undefined;
  return { status: response.status, headers: response.headers, json };
}

/** The shared helpers' transport: the worker's own fetch handler. */
export const workerSend: Send = (method, path, headers, body) =>
  call(method, path, headers, body instanceof FormData ? { raw: body } : { body });

/** The account key the test configuration gives the worker. */
export const ACCOUNT = { keyId: env.ACCOUNT_KEY_ID, secret: env.ACCOUNT_SECRET };

export const account = async () => bearer(await accountJwt(ACCOUNT));

export type TestApp = App;

/** Creates an app and a key through the account API, as an operator would. */
export const createApp = (name = "test app", settings?: Record<string, unknown>): Promise<TestApp> =>
  createAppVia(workerSend, ACCOUNT, { name, settings });

export const device = (id: string, platform = "ios") => ({ id, platform });

/**
 * Credentials that identify no one and so must be refused with 401 on every authenticated
 * endpoint, each built around an otherwise sufficient payload (app scope unless given).
 */
export async function invalidCredentials(
  app: TestApp,
  payload: Record<string, unknown> = { scope: "app" },
): Promise<Array<[string, Record<string, string>]>> {
  const past = Math.floor(Date.now() / 1000) - 60;
  return [
    ["no credential", {}],
    ["an unknown app token", { "app-token": "no-such-app-token" }],
    ["an expired JWT", bearer(await sign(payload, app.keyId, app.secret, { exp: past }))],
    ["an unsigned JWT (alg none)", bearer(unsignedJwt(payload, app.keyId))],
    ["a JWT with an unknown kid", bearer(await sign(payload, "000000000000000000000000", app.secret))],
    ["a JWT with a bad signature", bearer(await sign(payload, app.keyId, "not-the-secret"))],
  ];
}

/** Asserts the contract's error shape, and for 400s that the description starts with the offending field. */
export function expectError(response: { status: number; json: any }, status: number, field?: string) {
  expect(response.status, JSON.stringify(response.json)).toBe(status);
  expect(typeof response.json?.error?.code).toBe("string");
  expect(typeof response.json?.error?.description).toBe("string");
  if (field !== undefined) {
    const escaped = field.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    expect(response.json.error.description).toMatch(new RegExp(`^${escaped}[.:]`));
  }
}

/** The Conversation Durable Object behind an app user, for setting up long conversations without HTTP. */
export async function conversationOf(appUserId: string) {
  const row = await env.DB.prepare("SELECT conversation_id FROM app_users WHERE id = ?")
    .bind(appUserId)
    .first<{ conversation_id: string }>();
  if (!row) throw new Error(`no app user ${appUserId}`);
  const namespace = env.CONVERSATIONS as unknown as DurableObjectNamespace<import("../../../src/conversation/object/conversation").Conversation>;
  return namespace.get(namespace.idFromName(row.conversation_id));
}

/** The messages of a page a conversation object rendered (src/conversation/page.ts). */
export const storedMessages = (page: { messagesJson: string }): ConversationMessage[] => JSON.parse(page.messagesJson);

/** `count` plain appUser messages by `authorId`, texts `${prefix}0`, `${prefix}1`, ... */
export const textMessages = (authorId: string, count: number, prefix = "m") =>
  Array.from({ length: count }, (_, i) => ({
    _id: Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join(""),
    authorId,
    type: "text" as const,
    role: "appUser" as const,
    text: `${prefix}${i}`,
    actions: [],
    source: { type: "api" as const },
  }));

// --- Issue 3: webhooks, the outbox and the queue consumer -------------------------------

/** A request the worker sent with the global fetch, its body read once. */
export interface SentRequest {
  url: string;
  method: string;
  headers: Headers;
  body: string;
  /** The body as sent, for binary ones (an encrypted Web Push message). */
  bytes: Uint8Array;
  signal: AbortSignal | null;
}

/**
 * Answers the worker's outbound fetches (webhook targets) in place of the network and records
 * them. The worker shares the tests' isolate, so the spy reaches the queue consumer too.
 */
export function interceptFetch(answer: (sent: SentRequest) => Response | Promise<Response> = () => new Response("ok")) {
  const sent: SentRequest[] = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const bytes = new Uint8Array(await request.arrayBuffer());
    const record = {
      url: request.url,
      method: request.method,
      headers: request.headers,
      body: new TextDecoder().decode(bytes),
      bytes,
      signal: init?.signal ?? null,
    };
    sent.push(record);
    return answer(record);
  });
  return { sent, spy };
}

/**
 * Keeps every Conversation's outbox as written: no drain right after a write, and the alarm kept
 * pending (pushed an hour ahead) instead of draining: the state a worker that died between
 * storing a message and enqueueing its deliveries leaves. `mockRestore` lets
 * `runDurableObjectAlarm` run the real alarm.
 */
export function holdOutboxAlarms() {
  const drain = vi.spyOn(Conversation.prototype as unknown as { drainOutboxes: () => Promise<void> }, "drainOutboxes").mockResolvedValue();
  const alarm = vi.spyOn(Conversation.prototype, "alarm").mockImplementation(async function (this: Conversation) {
    await (this as unknown as { ctx: DurableObjectState }).ctx.storage.setAlarm(Date.now() + 3_600_000);
  });
  return {
    mockRestore() {
      drain.mockRestore();
      alarm.mockRestore();
    },
  };
}

/** The delivery jobs waiting in a conversation's outbox, oldest first. */
export async function outboxJobs(stub: DurableObjectStub<Conversation>): Promise<DeliveryJob[]> {
  return runInDurableObject(stub, (_instance, state) =>
    state.storage.sql
      .exec<{ job: string }>("SELECT job FROM outbox WHERE channel = 'webhook' ORDER BY seq")
      .toArray()
      .map((row) => JSON.parse(row.job) as DeliveryJob),
  );
}

/**
 * Runs the worker's queue handler (or `handler`) on one batch, as the queue would, and returns its acks and
 * retries, plus the options each retry was asked for (getQueueResult does not report delays).
 */
export async function runQueue<Body = DeliveryJob>(
  queue: string,
  messages: Array<{ body: Body; attempts?: number }>,
  environment: Env = env,
  handler: (batch: MessageBatch<Body>, env: Env, ctx: ExecutionContext) => void | Promise<void> = (worker as ExportedHandler<Env, Body>).queue!,
) {
  const batch = createMessageBatch<Body>(
    queue,
    messages.map(({ body, attempts = 1 }, i) => ({ id: `msg-${i}`, timestamp: new Date(), attempts, body })),
  );
  const retries: Array<{ msgId: string; options?: QueueRetryOptions }> = [];
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    message.retry = (options?: QueueRetryOptions) => {
      retries.push({ msgId: message.id, options });
      retry(options);
    };
  }
  const ctx = createExecutionContext();
  await handler(batch, environment, ctx);
  return { ids: batch.messages.map((m) => m.id), retries, result: await getQueueResult(batch, ctx) };
}

/** A fresh 24-hex id, as the worker makes them. */
export const hexId = () =>
  Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");

// --- Conversation events: reads, postbacks, typing -------------------------------------------

let userSerial = 0;

/** Pre-creates an app user of `owner` with a fresh userId; returns its _id and userId. */
export async function freshUser(owner: TestApp, profile: Record<string, unknown> = {}) {
  const userId = `user-${++userSerial}-${hexId()}@example.com`;
  const created = await call("POST", "/v1/appusers", owner.server, { body: { userId, ...profile } });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  return { id: created.json.appUser._id as string, userId };
}

/** A new app with one webhook per entry, listening to those triggers, at `${target}/${i}`. */
export async function appWithWebhooks(name: string, triggersPerWebhook: string[][], target: string) {
  const owner = await createApp(name);
  const hooks: Array<{ _id: string; target: string; secret: string; signingSecret: string }> = [];
  for (const [i, triggers] of triggersPerWebhook.entries()) {
    const created = await call("POST", "/v1/webhooks", owner.server, { body: { target: `${target}/${i}`, triggers } });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    hooks.push(created.json.webhook);
  }
  return { owner, hooks };
}

/** Waits for the queue consumer to record a delivered `trigger` delivery to the webhook, and returns the record. */
export function deliveredRecord(owner: TestApp, webhookId: string, trigger: string) {
  return vi.waitUntil(
    async () => {
      const { json } = await call("GET", `/v1/webhooks/${webhookId}/deliveries`, owner.server);
      return json.deliveries.find((d: { trigger: string; outcome: string }) => d.trigger === trigger && d.outcome === "delivered");
    },
    { timeout: 15_000, interval: 50 },
  );
}

/**
 * What an app-user endpoint must refuse, sent through `send(auth, path?)` for the user
 * `{id, userId}` of `app`: every credential that identifies no one (401 with WWW-Authenticate),
 * another user's JWT (403), and `other` app's token, JWT and account path (404).
 */
export async function expectAppUserRefusals(
  send: (auth: Record<string, string>, path?: string) => Promise<{ status: number; json: any; headers: Headers }>,
  app: TestApp,
  other: TestApp,
  user: { id: string; userId: string },
  endpoint: string,
) {
  for (const [name, auth] of await invalidCredentials(app, { scope: "appUser", userId: user.userId })) {
    const response = await send(auth);
    expect(response.status, name).toBe(401);
    expect(response.headers.get("www-authenticate"), name).toBeTruthy();
  }
  expectError(await send(await app.user(`someone-else-${hexId()}`)), 403);
  expectError(await send(other.token), 404);
  expectError(await send(other.server), 404);
  expectError(await send(await account(), `/v1/apps/${other.appId}/appusers/${user.id}/${endpoint}`), 404);
}
