import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  bodyRecipe,
  contentType,
  DOT_SEGMENTS,
  encodeSegment,
  mediaHeaders,
  multipartRecipe,
  pathSegment,
  queryString,
  renderBody,
  renderMultipart,
  type Json,
} from "./arbitraries";
import { credentialHeaders, credentialRecipe, type CredentialRecipe, type KeyRing } from "./credentials";
import { endpointsOf, type Access, type Endpoint } from "./endpoints";
import { createApp as createAppVia, createKey } from "../../../support/apps.ts";
import { bearer, sign } from "../../../support/jwt.ts";
import { initUser as initUserVia, preCreateUser } from "../../../support/users.ts";
import { account, ACCOUNT, BASE, call, conversationOf, createApp, storedMessages, workerSend, type TestApp } from "../../support/helpers";

/**
 * Property-based fuzzing of every endpoint in the Workers runtime. Four properties, each run
 * RUNS times per endpoint:
 *
 * - input: arbitrary bodies (wrong types, huge strings, deep nesting, unicode, prototype keys),
 *   queries and multipart forms, sent with a credential that may use the endpoint on its own data;
 * - credentials: broken JWTs and app tokens, which must all be 401 and change nothing anywhere;
 * - ids: hostile or other tenants' ids in the path (and in bodies that name users or devices):
 *   every request that reaches another tenant's data, or that its credential may not make,
 *   must be refused and change nothing in D1;
 * - methods: the endpoints' paths with methods they do not define.
 *
 * Then two of issue 11's: an app token's init on a protected user's device, with arbitrary device
 * and profile fields, never changes that device or user; and a webhook target's IPv4 address is
 * judged the same in every spelling (numbers, hex, octal, short forms, IPv6 that embeds it,
 * wildcard DNS names).
 *
 * Whatever the input: never a 5xx, every non-2xx has the JSON error shape {error:{code,description}}
 * with the code that matches its status, and no response to an attacker carries the victim's
 * secrets. The victim app's data (users, devices, conversations, whispers, webhooks, keys, media)
 * is compared before and after each endpoint's run. A table of the cases run per endpoint is
 * printed at the end.
 *
 * The endpoints, their credentials, query parameters and valid bodies come from the OpenAPI
 * document the worker serves (fuzz-endpoints.ts): a new route is fuzzed as soon as it is routed.
 */

const RUNS = 30;
const TEST_TIMEOUT = 180_000;

// ---------------------------------------------------------------------------------------------
// The world: a victim app V, an attacker app A, a sacrificial app S for destructive account calls

type Slot = "appId" | "keyId" | "integrationId" | "agentId" | "appUserId" | "deviceId" | "whisperId" | "webhookId" | "key" | "messageId";
type Ids = Partial<Record<Slot, string[]>>;

interface Session {
  headers: Record<string, string>;
  /** Prepended to app-level paths: /v1/apps/{appId} for an account credential. */
  prefix: string;
  own: Ids & { userId?: string };
  /** A body naming another user or another user's device, for the endpoints whose bodies name them. */
  foreignBody?: (endpoint: Endpoint, pick: number) => Record<string, unknown> | undefined;
}

interface Actor {
  name: string;
  can: Access[];
  /** Ids of other tenants, or of other users of the same app, that this actor must not reach. */
  foreign: Ids;
  next(): Session;
}

interface UserRef {
  _id: string;
  userId: string | null;
  deviceId: string;
}

const hex = (bytes = 12) => Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
const MARK = `victim-secret-${hex(8)}`;

let V: TestApp;
let A: TestApp;
let S: { appId: string; keyId: string; integrationId: string; agentId: string };
let vIntegration: string;
let vAgent: string;
let alice: UserRef;
let anon: UserRef;
let carol: UserRef;
let mallories: UserRef[];
let anns: UserRef[];
let vWhisper: string;
let vMessage: string;
/** A message id no conversation has. */
const NO_MESSAGE = "000000000000000000000000";
let vWebhook: string;
let aWhisper: string;
let aWebhook: string;
let vMediaKey: string;
let aMediaKey: string;
let accountHeaders: Record<string, string>;
let aServerHeaders: Record<string, string>[];
let annHeaders: Record<string, string>[];
let malloryHeaders: Record<string, string>[];
/** Strings that only the victim's own credentials (or the account) may ever be shown. */
let leakMarkers: string[];
let actors: Record<"account" | "accountAtA" | "aToken" | "aServer" | "aUser" | "mallory", Actor>;

let requestSerial = 0;
/** Every request comes from its own address, so the app-token budget is per request. */
const clientAddress = () => {
  const n = ++requestSerial;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
};
const roundRobin = <T>(items: T[]) => {
  let i = 0;
  return () => items[i++ % items.length];
};

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82]);

async function ok(response: Promise<{ status: number; json: any }>) {
  const { status, json } = await response;
  if (status >= 300) throw new Error(`setup failed: ${status} ${JSON.stringify(json)}`);
  return json;
}

async function initUser(headers: Record<string, string>, deviceId: string, userId?: string): Promise<UserRef> {
  const appUser = await initUserVia(workerSend, headers, { id: deviceId, platform: "ios" }, userId);
  return { _id: appUser._id, userId: appUser.userId ?? null, deviceId };
}

/** A valid upload: a PNG as `source`, posted as the app user. */
function pngForm() {
  const form = new FormData();
  form.append("source", new File([PNG], "a.png", { type: "image/png" }));
  form.append("role", "appUser");
  return form;
}

async function upload(appUserId: string, headers: Record<string, string>) {
  const json = await ok(call("POST", `/v1/appusers/${appUserId}/images`, headers, { raw: pngForm() }));
  return (json.message.mediaUrl as string).slice(`${BASE}/v1/media/`.length);
}

/** What the account credential calls its own: the sacrificial app and its fixtures. */
const accountOwn = (): Ids => ({ appId: [S.appId], keyId: [S.keyId], integrationId: [S.integrationId], agentId: [S.agentId] });

async function setUpWorld() {
  accountHeaders = await account();
  [V, A] = await Promise.all([createApp("victim", { marker: MARK }), createApp("attacker")]);
  const extraKeys = await Promise.all([1, 2].map(() => createKey(workerSend, accountHeaders, A.appId, "more")));
  aServerHeaders = [A.server, ...(await Promise.all(extraKeys.map((key) => sign({ scope: "app" }, key._id, key.secret).then(bearer))))];
  const sacrificial = await createAppVia(workerSend, ACCOUNT, { name: "sacrificial", keyName: "s" });
  const integrationOf = async (appId: string) =>
    (await ok(call("POST", `/v1/apps/${appId}/integrations`, accountHeaders, { body: { type: "webpush" } }))).integration._id as string;
  const agentOf = async (appId: string) =>
    (await ok(call("POST", `/v1/apps/${appId}/agents`, accountHeaders, { body: { email: `agent-${hex(4)}@example.com` } }))).agent._id as string;
  S = { appId: sacrificial.appId, keyId: sacrificial.keyId, integrationId: await integrationOf(sacrificial.appId), agentId: await agentOf(sacrificial.appId) };
  vIntegration = await integrationOf(V.appId);
  vAgent = await agentOf(V.appId);

  // The victim: identified, anonymous and credential-required users, each with messages.
  alice = await initUser(V.token, "victim-device-alice", "alice@victim.test");
  await ok(call("PUT", `/v1/appusers/${alice._id}`, V.token, { body: { givenName: MARK, properties: { secret: MARK } } }));
  vMessage = (await ok(call("POST", `/v1/appusers/${alice._id}/messages`, V.token, { body: { role: "appUser", text: MARK } }))).message._id;
  vMediaKey = await upload(alice._id, V.token);
  anon = await initUser(V.token, "victim-device-anon");
  await ok(call("POST", `/v1/appusers/${anon._id}/messages`, V.token, { body: { role: "appUser", text: MARK } }));
  const carolUser = await preCreateUser(workerSend, V.server, "carol@victim.test", { credentialRequired: true, givenName: MARK });
  carol = { _id: carolUser._id, userId: "carol@victim.test", deviceId: "victim-device-carol" };
  await initUserVia(workerSend, await V.user("carol@victim.test"), { id: carol.deviceId, platform: "web" });
  await ok(call("POST", `/v1/appusers/${carol._id}/messages`, V.server, { body: { role: "appMaker", text: MARK } }));
  vWhisper = (await ok(call("POST", "/v1/whispers", V.server, { body: { event: "victim-event", text: MARK } }))).whisper._id;
  // Created last and only for appMaker messages: no delivery is pending while the fuzz runs.
  const webhook = await ok(
    call("POST", "/v1/webhooks", V.server, { body: { target: `https://victim.invalid/${MARK}`, triggers: ["message:appMaker"] } }),
  );
  vWebhook = webhook.webhook._id;
  leakMarkers = [MARK, V.secret, V.appToken, webhook.webhook.secret, webhook.webhook.signingSecret];

  // Attackers inside the victim app: appUser JWTs of V, several so that no single user budget runs out.
  malloryHeaders = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => V.user(`mallory-${i}`)));
  mallories = await Promise.all(malloryHeaders.map((headers, i) => initUser(headers, `mallory-device-${i}`)));

  // The attacker's own app.
  annHeaders = await Promise.all([0, 1, 2, 3].map((i) => A.user(`ann-${i}`)));
  anns = await Promise.all(annHeaders.map((headers, i) => initUser(headers, `ann-device-${i}`)));
  aWhisper = (await ok(call("POST", "/v1/whispers", A.server, { body: { event: "completed_sale", text: "hello" } }))).whisper._id;
  aWebhook = (await ok(call("POST", "/v1/webhooks", A.server, { body: { target: "https://a-hook.invalid/x" } }))).webhook._id;
  aMediaKey = await upload(anns[0]._id, A.token);

  actors = buildActors();
}

const idsOf = (user: UserRef) => [user._id, ...(user.userId ? [encodeSegment(user.userId)] : [])];

function buildActors(): typeof actors {
  const victimUsers = [alice, anon, carol];
  const victimDevices = victimUsers.map((u) => u.deviceId);
  const againstA: Ids = {
    appId: [V.appId],
    appUserId: [...victimUsers.flatMap(idsOf), mallories[0]._id],
    deviceId: victimDevices,
    whisperId: [vWhisper],
    webhookId: [vWebhook],
    messageId: [vMessage],
  };
  const nextAnn = roundRobin(anns.map((user, i) => ({ user, i })));
  const annOwn = (user: UserRef): Session["own"] => ({
    appId: [A.appId],
    appUserId: idsOf(user),
    userId: user.userId!,
    deviceId: [user.deviceId],
    whisperId: [aWhisper],
    webhookId: [aWebhook],
    key: [aMediaKey],
    // No message of theirs: a deletion with own ids would only starve the other properties.
    messageId: [NO_MESSAGE],
  });
  const nextServer = roundRobin(aServerHeaders);
  const nextMallory = roundRobin(mallories.map((user, i) => ({ user, i })));
  const withAddress = (headers: Record<string, string>) => ({ ...headers, "cf-connecting-ip": clientAddress() });

  /** Bodies of a user's own requests that name one of `others` or their device. */
  const bodyNaming = (others: UserRef[]) => (endpoint: Endpoint, pick: number) => {
    const other = others[pick % others.length];
    if (endpoint.template === "/v1/init") {
      return { device: { id: other.deviceId, platform: "android", pushNotificationToken: "hijacked" }, userId: other.userId };
    }
    return endpoint.template.endsWith("/pushtoken") ? { deviceId: other.deviceId, token: "hijacked" } : undefined;
  };
  return {
    account: {
      name: "account JWT",
      can: ["account", "public"],
      foreign: { keyId: [V.keyId, A.keyId], integrationId: [vIntegration], agentId: [vAgent] },
      next: () => ({ headers: withAddress(accountHeaders), prefix: "", own: accountOwn() }),
    },
    accountAtA: {
      name: "account JWT via /v1/apps/{appId}",
      can: ["app", "appUser", "server", "public"],
      foreign: againstA,
      next: () => {
        const { user } = nextAnn();
        return { headers: withAddress(accountHeaders), prefix: `/v1/apps/${A.appId}`, own: annOwn(user) };
      },
    },
    aToken: {
      name: "app token",
      can: ["app", "appUser", "public"],
      foreign: againstA,
      next: () => ({ headers: withAddress(A.token), prefix: "", own: annOwn(nextAnn().user) }),
    },
    aServer: {
      name: "app JWT",
      can: ["app", "appUser", "server", "public"],
      foreign: againstA,
      next: () => ({ headers: withAddress(nextServer()), prefix: "", own: annOwn(nextAnn().user) }),
    },
    aUser: {
      name: "appUser JWT",
      can: ["app", "appUser", "public"],
      foreign: { ...againstA, appUserId: [...againstA.appUserId!, ...anns.map((u) => u._id)], deviceId: [...victimDevices, ...anns.map((u) => u.deviceId)] },
      next: () => {
        const { user, i } = nextAnn();
        return {
          headers: withAddress(annHeaders[i]),
          prefix: "",
          own: { ...annOwn(user), whisperId: [], webhookId: [] },
          foreignBody: bodyNaming(anns.filter((other) => other !== user)),
        };
      },
    },
    mallory: {
      name: "appUser JWT of another user of the victim app",
      can: ["app", "appUser", "public"],
      foreign: {
        appId: [A.appId],
        appUserId: [...victimUsers.flatMap(idsOf), anns[0]._id],
        deviceId: victimDevices,
        whisperId: [vWhisper, aWhisper],
        webhookId: [vWebhook, aWebhook],
        messageId: [vMessage],
      },
      next: () => {
        const { user, i } = nextMallory();
        return {
          headers: withAddress(malloryHeaders[i]),
          prefix: "",
          own: { appId: [V.appId], appUserId: idsOf(user), userId: user.userId!, deviceId: [user.deviceId] },
          foreignBody: bodyNaming([alice, carol]),
        };
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Endpoints

const label = (e: Endpoint) => `${e.method} ${e.template}`;

// Drawn from the document the worker serves: a route added to the app is fuzzed without a word here.
const DOCUMENT = await (await exports.default.fetch(new Request(`${BASE}/v1/openapi.json`))).json();
const ENDPOINTS: Endpoint[] = endpointsOf(DOCUMENT as Parameters<typeof endpointsOf>[0]);

const slotsOf = (template: string) => [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as Slot);
const fill = (template: string, values: Partial<Record<Slot, string>>) => template.replace(/\{(\w+)\}/g, (_, slot: Slot) => values[slot]!);
const isAppLevel = (e: Endpoint) => e.access === "app" || e.access === "server" || e.access === "appUser";
const withPrefix = (prefix: string, path: string) => (prefix ? `${prefix}${path.slice("/v1".length)}` : path);
const actorsFor = (e: Endpoint) => Object.values(actors).filter((actor) => actor.can.includes(e.access));
const SAMPLE_OWN: Session["own"] = { appId: ["a"], appUserId: ["u"], userId: "u", deviceId: ["d"] };

// ---------------------------------------------------------------------------------------------
// Sending and checking

interface Req {
  method: string;
  path: string;
  headers: [string, string][];
  body?: string | Uint8Array | FormData;
}

interface Res {
  status: number;
  headers: Headers;
  text: string;
}

type Property = "input" | "credentials" | "ids" | "methods";
const PROPERTIES: Property[] = ["input", "credentials", "ids", "methods"];
const stats = new Map<string, { cases: Record<Property, number>; statuses: Map<number, number> }>();

function record(endpoint: Endpoint, property: Property, status: number) {
  let entry = stats.get(label(endpoint));
  if (!entry) stats.set(label(endpoint), (entry = { cases: { input: 0, credentials: 0, ids: 0, methods: 0 }, statuses: new Map() }));
  entry.cases[property]++;
  entry.statuses.set(status, (entry.statuses.get(status) ?? 0) + 1);
}

const clip = (text: string, max = 300) => (text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text);

function describeBody(body: Req["body"]): string {
  if (body === undefined) return "(none)";
  if (typeof body === "string") return JSON.stringify(clip(body));
  if (body instanceof Uint8Array) return `bytes[${body.length}] ${Array.from(body.slice(0, 40), (b) => b.toString(16).padStart(2, "0")).join(" ")}`;
  return `form ${JSON.stringify([...body.entries()].map(([k, v]) => [clip(k, 60), typeof v === "string" ? clip(v, 100) : `File(${v.name}, ${v.type}, ${v.size} bytes)`]))}`;
}

const repro = (req: Req, res?: Res) =>
  [
    `  request: ${req.method} ${clip(req.path, 400)}`,
    `  headers: ${JSON.stringify(req.headers.filter(([name]) => name !== "cf-connecting-ip").map(([n, v]) => [n, clip(v, 200)]))}`,
    `  body: ${describeBody(req.body)}`,
    ...(res ? [`  response: ${res.status} ${clip(res.text, 400)}`] : []),
  ].join("\n");

async function send(req: Req): Promise<Res> {
  const headers = new Headers();
  for (const [name, value] of req.headers) headers.append(name, value);
  const response = await exports.default.fetch(new Request(`${BASE}${req.path}`, { method: req.method, headers, body: req.body }));
  return { status: response.status, headers: response.headers, text: await response.text() };
}

const CODE_STATUS: Record<string, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  range_not_satisfiable: 416,
  too_many_requests: 429,
};

/** The contract for every response, whatever was sent. */
function checkResponse(req: Req, res: Res, { leaks, json: jsonSuccess }: { leaks: boolean; json: boolean }) {
  const fail = (why: string) => {
    throw new Error(`${why}\n${repro(req, res)}`);
  };
  if (res.status >= 500) fail("server error");
  if (leaks) for (const marker of leakMarkers) if (res.text.includes(marker)) fail(`response shows the victim's secret ${marker}`);
  const bodiless = req.method === "HEAD" || res.status === 204 || res.status === 304;
  // Successes the document declares as something else than JSON (an image, a page).
  const other = !jsonSuccess && res.status < 300;
  if (bodiless || other) return;
  let json: any;
  try {
    json = JSON.parse(res.text);
  } catch {
    fail("body is not JSON");
  }
  if (!res.headers.get("content-type")?.startsWith("application/json")) fail("content-type is not application/json");
  if (res.status < 300) return;
  const error = json?.error;
  if (Object.keys(json ?? {}).join() !== "error" || typeof error !== "object" || Object.keys(error).sort().join() !== "code,description") {
    fail("error body is not {error:{code,description}}");
  }
  if (typeof error.description !== "string" || error.description === "") fail("error description is not a non-empty string");
  if (CODE_STATUS[error.code] !== res.status) fail(`error code ${error.code} does not go with status ${res.status}`);
  if (res.status === 400 && !/^[A-Za-z][\w-]*(\.|: )/.test(error.description)) fail("400 description does not start with the field it is about");
  if (res.status === 401 && !res.headers.get("www-authenticate")) fail("401 without WWW-Authenticate");
  if (res.status === 429 && !res.headers.get("retry-after")) fail("429 without Retry-After");
}

/** 429s in the current run: acceptable with the error shape, but too many would hide coverage. */
let throttled = 0;

async function exchange(endpoint: Endpoint, property: Property, req: Req, leaks = true): Promise<Res> {
  const res = await send(req);
  record(endpoint, property, res.status);
  if (res.status === 429) throttled++;
  checkResponse(req, res, { leaks, json: endpoint.jsonSuccess });
  return res;
}

// ---------------------------------------------------------------------------------------------
// State that requests must not change

const placeholders = (n: number) => Array.from({ length: n }, () => "?").join(",") || "NULL";

async function listMedia() {
  const objects: Record<string, unknown>[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.MEDIA.list({ include: ["customMetadata"], cursor });
    objects.push(...page.objects.map((o) => ({ key: o.key, size: o.size, etag: o.etag, ...o.customMetadata })));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return objects;
}

/** Everything of the victim app except the rows of its users who are fuzzing it (the mallories). */
async function victimState() {
  const db = env.DB;
  const mine = mallories.map((u) => u._id);
  const devices = [alice, anon, carol].map((u) => u.deviceId);
  const rows = await db.batch([
    db.prepare("SELECT * FROM apps WHERE id = ?").bind(V.appId),
    db.prepare("SELECT * FROM app_keys WHERE app_id = ? ORDER BY id").bind(V.appId),
    db.prepare(`SELECT * FROM app_users WHERE app_id = ? AND id NOT IN (${placeholders(mine.length)}) ORDER BY id`).bind(V.appId, ...mine),
    db.prepare(`SELECT * FROM devices WHERE app_id = ? AND id IN (${placeholders(devices.length)}) ORDER BY id`).bind(V.appId, ...devices),
    db.prepare(`SELECT * FROM device_users WHERE app_id = ? AND app_user_id NOT IN (${placeholders(mine.length)}) ORDER BY device_id, app_user_id`).bind(V.appId, ...mine),
    db.prepare("SELECT * FROM whispers WHERE app_id = ? ORDER BY id").bind(V.appId),
    db.prepare("SELECT * FROM webhooks WHERE app_id = ? ORDER BY id").bind(V.appId),
    db.prepare("SELECT * FROM integrations WHERE app_id = ? ORDER BY id").bind(V.appId),
    db.prepare("SELECT d.* FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE w.app_id = ? ORDER BY d.id").bind(V.appId),
  ]);
  const conversations = await Promise.all([alice, anon, carol].map(async (u) => storedMessages(await (await conversationOf(u._id)).newest())));
  const media = (await listMedia()).filter((o) => o.appId === V.appId && !mine.includes(o.appUserId as string));
  return { rows: rows.map((r) => r.results), conversations, media };
}

/** Every D1 row but the delivery records, which the queue consumer updates in the background. */
async function d1State() {
  const tables = ["apps", "app_keys", "app_users", "devices", "device_users", "whispers", "webhooks", "integrations"];
  const rows = await env.DB.batch(tables.map((t) => env.DB.prepare(`SELECT * FROM ${t} ORDER BY rowid`)));
  return JSON.stringify(rows.map((r) => r.results));
}

async function worldState() {
  return { d1: await d1State(), media: await listMedia(), victim: await victimState() };
}

/**
 * Runs a property and checks that the victim's data is as it was. `examples` run first: inputs
 * that once found a bug, kept so that a regression does not depend on the generator finding it again.
 */
async function fuzz<T>(arbitrary: fc.Arbitrary<T>, run: (value: T) => Promise<void>, { numRuns = RUNS, examples = [] as T[] } = {}) {
  const before = await victimState();
  throttled = 0;
  await fc.assert(fc.asyncProperty(arbitrary, run), { numRuns, examples: examples.map((e) => [e] as [T]) });
  expect(throttled, "rate-limited cases").toBeLessThanOrEqual(numRuns / 10);
  expect(await victimState()).toEqual(before);
}

// ---------------------------------------------------------------------------------------------
// The properties

let nonce = 0;

beforeAll(async () => {
  // Webhook deliveries of the attacker's app go nowhere: no network, and no background retries.
  vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("ok"));
  await setUpWorld();
}, 60_000);

afterAll(() => {
  vi.restoreAllMocks();
  const rows = ENDPOINTS.map((e) => {
    const entry = stats.get(label(e));
    const cases = PROPERTIES.map((p) => entry?.cases[p] ?? 0);
    const statuses = [...(entry?.statuses ?? new Map<number, number>()).entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}:${n}`).join(" ");
    const credentials = e.access === "public" ? "none" : actorsFor(e).map((a) => a.name).join(", ");
    return [label(e), credentials, ...cases.map(String), String(cases.reduce((a, b) => a + b, 0)), statuses];
  });
  const header = ["endpoint", "credentials (own data)", ...PROPERTIES, "total", "statuses"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (i === header.length - 1 ? 0 : r[i].length))));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
  const total = rows.reduce((sum, r) => sum + Number(r[header.length - 2]), 0);
  console.log(["Fuzz cases per endpoint:", line(header), ...rows.map(line), `${total} requests in all`].join("\n"));
});

describe("arbitrary input with a credential allowed to use the endpoint", () => {
  const endpoints = ENDPOINTS.filter((e) => e.method !== "DELETE");

  it.each(endpoints.map((e) => [label(e), e] as const))("%s: never a 5xx, always the error shape", async (_, endpoint) => {
    const actorIndex = fc.nat();
    const pick = (i: number) => {
      const candidates = actorsFor(endpoint);
      return candidates.length ? candidates[i % candidates.length].next() : { headers: { "cf-connecting-ip": clientAddress() }, prefix: "", own: {} };
    };
    const path = (session: Session) => {
      const own = session.own;
      const values = Object.fromEntries(slotsOf(endpoint.template).map((slot) => [slot, own[slot]?.[0] ?? ""]));
      const filled = fill(endpoint.template, values);
      return isAppLevel(endpoint) ? withPrefix(session.prefix, filled) : filled;
    };
    const account = endpoint.access === "account";
    // The same valid credential, spelled the ways clients spell it; only the general invariants apply.
    const spelling = fc.constantFrom<[RegExp, string]>([/^/, ""], [/^Bearer /, "bearer "], [/^Bearer /, "Bearer  "], [/^Bearer /, "Bearer\t"], [/$/, "  "]);
    const headersOf = (session: Session, [pattern, replacement]: [RegExp, string]) =>
      Object.entries(session.headers).map(([name, value]): [string, string] => [name, name === "authorization" ? value.replace(pattern, replacement) : value]);

    if (endpoint.body) {
      const template = endpoint.body(SAMPLE_OWN, "0");
      const arbitrary = fc.record({ actor: actorIndex, spelled: spelling, body: bodyRecipe(template as Json), type: contentType, query: fc.option(queryString([]), { freq: 6 }) });
      await fuzz(arbitrary, async ({ actor, spelled, body, type, query }) => {
        const session = pick(actor);
        const headers = headersOf(session, spelled);
        if (type !== undefined) headers.push(["content-type", type]);
        const rendered = renderBody(endpoint.body!(session.own, `${++nonce}`) as Json, body);
        await exchange(endpoint, "input", { method: endpoint.method, path: path(session) + (query ?? ""), headers, body: rendered }, !account);
      });
    } else if (endpoint.multipart) {
      await fuzz(fc.record({ actor: actorIndex, spelled: spelling, form: multipartRecipe }), async ({ actor, spelled, form }) => {
        const session = pick(actor);
        const { body, contentType: type } = renderMultipart(form);
        const headers = headersOf(session, spelled);
        if (type !== undefined) headers.push(["content-type", type]);
        await exchange(endpoint, "input", { method: "POST", path: path(session), headers, body });
      });
    } else if (endpoint.media) {
      await fuzz(fc.record({ key: fc.constantFrom(aMediaKey, vMediaKey), headers: mediaHeaders }), async ({ key, headers }) => {
        await exchange(endpoint, "input", { method: "GET", path: `/v1/media/${key}`, headers: Object.entries(headers) }, false);
      });
    } else {
      await fuzz(fc.record({ actor: actorIndex, spelled: spelling, query: queryString(endpoint.query ?? []) }), async ({ actor, spelled, query }) => {
        const session = pick(actor);
        await exchange(endpoint, "input", { method: endpoint.method, path: path(session) + query, headers: headersOf(session, spelled) }, !account);
      });
    }
  }, TEST_TIMEOUT);
});

/** Found by this fuzzer: each was a 500 before its fix (src/auth/jwt.ts). */
const CREDENTIAL_REGRESSIONS: CredentialRecipe[] = [
  // Correctly signed, but String(scope) throws while the refusal is being worded.
  { kind: "defective", defect: "scope as object", alg: "HS256", key: "own", extraHeader: "" },
  // Unsigned: the same for the alg, before any key is looked up.
  { kind: "forged", header: '{"alg":{"toString":"HS256"},"kid":"own"}', payload: '{"scope":"app"}', signature: "absent", alg: "HS256" },
];

describe("broken credentials", () => {
  const endpoints = ENDPOINTS.filter((e) => e.access !== "public");

  it.each(endpoints.map((e) => [label(e), e] as const))("%s: always 401, and nothing changes anywhere", async (_, endpoint) => {
    const keys: KeyRing = {
      own: { kid: A.keyId, secret: A.secret, appToken: A.appToken, appId: A.appId },
      other: { kid: V.keyId, secret: V.secret },
      account: { kid: env.ACCOUNT_KEY_ID, secret: env.ACCOUNT_SECRET },
    };
    // The request the attacker's own credential could make: only the credential is broken.
    const session = actors.aServer.next();
    const own = endpoint.access === "account" ? accountOwn() : session.own;
    const path = fill(endpoint.template, Object.fromEntries(slotsOf(endpoint.template).map((slot) => [slot, own[slot]?.[0] ?? ""])));
    const before = await worldState();
    await fc.assert(
      fc.asyncProperty(credentialRecipe, async (recipe) => {
        const headers = await credentialHeaders(recipe, keys);
        headers.push(["cf-connecting-ip", clientAddress()]);
        const body = endpoint.body ? JSON.stringify(endpoint.body(own as Session["own"], `${++nonce}`)) : endpoint.multipart ? pngForm() : undefined;
        if (endpoint.body) headers.push(["content-type", "application/json"]);
        const req = { method: endpoint.method, path, headers, body };
        const res = await exchange(endpoint, "credentials", req);
        if (res.status !== 401) throw new Error(`expected 401 for ${JSON.stringify(recipe).slice(0, 300)}\n${repro(req, res)}`);
      }),
      { numRuns: RUNS, examples: CREDENTIAL_REGRESSIONS.map((recipe) => [recipe]) },
    );
    expect(await worldState()).toEqual(before);
  }, TEST_TIMEOUT);
});

describe("hostile and foreign ids", () => {
  type Choice = { kind: "own" | "foreign" | "nasty"; pick: number; nasty: string };
  const choice: fc.Arbitrary<Choice> = fc.record({
    kind: fc.oneof({ weight: 1, arbitrary: fc.constant("own" as const) }, { weight: 2, arbitrary: fc.constant("foreign" as const) }, { weight: 3, arbitrary: fc.constant("nasty" as const) }),
    pick: fc.nat(),
    nasty: pathSegment,
  });
  /** Segments that make the URL parser or the router see another path than the template's. */
  const reroutes = (segment: string) => DOT_SEGMENTS.has(segment) || /[/\\?#]/.test(segment);

  const endpoints = ENDPOINTS.filter((e) => slotsOf(e.template).length > 0 || isAppLevel(e));

  it.each(endpoints.map((e) => [label(e), e] as const))("%s: refused across tenants, users and scopes, with nothing changed", async (_, endpoint) => {
    const slots = slotsOf(endpoint.template);
    // The account may touch every app: it is fuzzed on the sacrificial app only, and never through app-level paths.
    const candidates = Object.values(actors).filter((a) => a !== actors.accountAtA && (a !== actors.account || !isAppLevel(endpoint)));
    const arbitrary = fc.record({
      actor: fc.nat(),
      slots: fc.array(choice, { minLength: slots.length, maxLength: slots.length }),
      // Without ids of its own, an app-level path gets its hostility from the /v1/apps/{appId} prefix.
      prefix: !isAppLevel(endpoint) ? fc.constant(null) : slots.length > 0 ? fc.option(choice, { freq: 2 }) : choice,
      foreignBody: fc.option(fc.nat(), { freq: 2 }),
    });

    await fuzz(arbitrary, async ({ actor: actorIndex, slots: choices, prefix, foreignBody }) => {
      const actor = endpoint.media ? null : candidates[actorIndex % candidates.length];
      const session: Session = actor ? actor.next() : { headers: { "cf-connecting-ip": clientAddress() }, prefix: "", own: { key: [aMediaKey] } };
      const permitted = actor ? actor.can.includes(endpoint.access) : true;
      const destructive = endpoint.method === "DELETE";
      let foreign = false;
      let rerouted = false;
      let allOwn = true;
      const resolve = (slot: Slot, c: Choice): string => {
        const own = session.own[slot] ?? [];
        const others = (actor?.foreign[slot] ?? (slot === "key" ? [vMediaKey] : [])).filter((id) => !own.includes(id));
        // Deleting one's own fixtures would only starve the other properties.
        const kind = c.kind === "own" && (own.length === 0 || (destructive && slot !== "appId")) ? "foreign" : c.kind;
        if (kind === "foreign" && others.length > 0) {
          foreign ||= slot !== "key"; // media keys are public: another app's is not off limits
          allOwn = false;
          return others[c.pick % others.length];
        }
        if (kind === "own") return own[c.pick % own.length];
        allOwn = false;
        rerouted ||= reroutes(c.nasty);
        return c.nasty;
      };
      const values = Object.fromEntries(slots.map((slot, i) => [slot, resolve(slot, choices[i])]));
      let path = fill(endpoint.template, values);
      if (prefix && actor && actor !== actors.account) path = withPrefix(`/v1/apps/${resolve("appId", prefix)}`, path);
      let body = endpoint.body?.(session.own, `${++nonce}`);
      const named = foreignBody !== null && endpoint.body ? session.foreignBody?.(endpoint, foreignBody) : undefined;
      if (named) {
        body = named;
        foreign = true;
        allOwn = false;
      }
      if (allOwn && permitted) return; // an ordinary request: the input property covers it

      const headers = Object.entries(session.headers);
      if (body) headers.push(["content-type", "application/json"]);
      const req = { method: endpoint.method, path, headers, body: endpoint.multipart ? pngForm() : body && JSON.stringify(body) };
      const refused = !rerouted && (foreign || !permitted);
      const before = refused ? await d1State() : undefined;
      const res = await exchange(endpoint, "ids", req, actor !== actors.account);
      if (refused) {
        if (res.status < 400) throw new Error(`expected a refusal (${actor!.name}${permitted ? ", foreign id" : ", scope too small"})\n${repro(req, res)}`);
        const after = await d1State();
        if (after !== before) throw new Error(`a refused request changed D1 (${actor!.name})\n${repro(req, res)}\n${d1Diff(before!, after)}`);
      }
    }, { examples: idRegressions(endpoint, candidates) });
  }, TEST_TIMEOUT);
});

/** Found by this fuzzer; see the comments for what each did before its fix. */
function idRegressions(endpoint: Endpoint, candidates: Actor[]) {
  const none = { kind: "own" as const, pick: 0, nasty: "" };
  const examples = [];
  if (endpoint.media) {
    // A key longer than R2 allows: R2's head() threw, a 500 (src/routes/media/routes.ts).
    examples.push({ actor: 0, slots: [{ kind: "nasty" as const, pick: 0, nasty: "a".repeat(1025) }], prefix: null, foreignBody: null });
  }
  if (endpoint.template === "/v1/init" || endpoint.template.endsWith("/pushtoken")) {
    // Another user's userId and device: init answered 403 but had already rewritten that device (src/routes/init/initialize.ts).
    for (const actor of [actors.aUser, actors.mallory]) {
      const slots = slotsOf(endpoint.template).map(() => none);
      examples.push({ actor: candidates.indexOf(actor), slots, prefix: null, foreignBody: 0 });
    }
  }
  return examples;
}

/** The first rows that differ between two d1State() snapshots, for the failure message. */
function d1Diff(before: string, after: string) {
  const [b, a] = [JSON.parse(before), JSON.parse(after)] as unknown[][][];
  const lines: string[] = [];
  b.forEach((rows, t) => {
    const was = new Set(rows.map((r) => JSON.stringify(r)));
    const now = new Set(a[t].map((r) => JSON.stringify(r)));
    for (const r of was) if (!now.has(r)) lines.push(`  - ${clip(r, 400)}`);
    for (const r of now) if (!was.has(r)) lines.push(`  + ${clip(r, 400)}`);
  });
  return lines.slice(0, 10).join("\n");
}

it("paths answer methods they do not define with the error shape", async () => {
  const defined = new Map<string, Set<string>>();
  for (const e of ENDPOINTS) defined.set(e.template, (defined.get(e.template) ?? new Set()).add(e.method));
  const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "PROPFIND"];
  const arbitrary = fc.record({ endpoint: fc.constantFrom(...ENDPOINTS), method: fc.constantFrom(...METHODS), origin: fc.boolean() }).filter(
    // HEAD runs the GET handler, which changes nothing.
    ({ endpoint, method }) => !defined.get(endpoint.template)!.has(method) || method === "HEAD",
  );
  await fuzz(
    arbitrary,
    async ({ endpoint, method, origin }) => {
      const session = endpoint.access === "account" ? actors.account.next() : actors.aServer.next();
      const own: Ids = endpoint.access === "account" ? accountOwn() : { ...session.own, key: [aMediaKey] };
      const path = fill(endpoint.template, Object.fromEntries(slotsOf(endpoint.template).map((slot) => [slot, own[slot]?.[0] ?? ""])));
      const headers = Object.entries(session.headers);
      if (origin) headers.push(["origin", "https://evil.invalid"], ["access-control-request-method", "DELETE"]);
      await exchange(endpoint, "methods", { method, path, headers }, endpoint.access !== "account");
    },
    { numRuns: RUNS * 4 },
  );
}, TEST_TIMEOUT);

// ---------------------------------------------------------------------------------------------
// Issue 11: device takeover and webhook target spellings

it("an app token's init on a protected user's device, whatever it sends, leaves that device and user as they were", async () => {
  const protectedState = async () =>
    JSON.stringify(
      await env.DB.batch([
        // Everything but the anonymous slot, which the fresh anonymous user of that device takes.
        env.DB.prepare(
          "SELECT platform, app_version, push_notification_token, info, active_app_user_id, protected_at, updated_at FROM devices WHERE app_id = ? AND id = ?",
        ).bind(V.appId, carol.deviceId),
        env.DB.prepare("SELECT * FROM device_users WHERE app_id = ? AND device_id = ? ORDER BY app_user_id").bind(V.appId, carol.deviceId),
        env.DB.prepare("SELECT * FROM app_users WHERE id = ? OR merged_into = ?").bind(carol._id, carol._id),
      ]).then((results) => results.map((r) => r.results)),
    );
  const before = await protectedState();
  const text = fc.string({ maxLength: 12 });
  const arbitrary = fc.record({
    platform: fc.constantFrom("ios", "android", "web", "other"),
    pushNotificationToken: fc.option(text, { nil: undefined }),
    appVersion: fc.option(text, { nil: undefined }),
    info: fc.option(fc.dictionary(text, text, { maxKeys: 3 }), { nil: undefined }),
    userId: fc.option(fc.constantFrom("", `takeover-${MARK}`, "mallory-0"), { nil: undefined }),
    givenName: fc.option(text, { nil: undefined }),
    properties: fc.option(fc.dictionary(text, text, { maxKeys: 2 }), { nil: undefined }),
  });
  await fc.assert(
    fc.asyncProperty(arbitrary, async ({ platform, pushNotificationToken, appVersion, info, ...profile }) => {
      const body = { device: { id: carol.deviceId, platform, pushNotificationToken, appVersion, info }, ...profile };
      const response = await call("POST", "/v1/init", { ...V.token, "cf-connecting-ip": clientAddress() }, { body });
      expect(response.status).toBeLessThan(500);
      if (response.status === 200) expect(response.json.appUser._id).not.toBe(carol._id);
      expect(await protectedState()).toBe(before);
    }),
    { numRuns: RUNS },
  );
}, TEST_TIMEOUT);

it("a webhook target's address is judged the same in every spelling the URL parser accepts", async () => {
  const { isPrivateHost } = await import("../../../../src/outbound/private-host");
  const spellings = (n: number) => {
    const [a, b, c, d] = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
    const hex = (x: number) => `0x${x.toString(16)}`;
    const octal = (x: number) => `0${x.toString(8)}`;
    return [
      `${a}.${b}.${c}.${d}`,
      String(n),
      hex(n),
      octal(n),
      `${hex(a)}.${octal(b)}.${c}.${hex(d)}`,
      `${a}.${b}.${(c << 8) | d}`,
      `${a}.${(b << 16) | (c << 8) | d}`,
      `[::ffff:${a}.${b}.${c}.${d}]`,
      `[::ffff:${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}]`,
      `[64:ff9b::${a}.${b}.${c}.${d}]`,
      `[2002:${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}::1]`,
      `${a}-${b}-${c}-${d}.sslip.io`,
      `${a}.${b}.${c}.${d}.nip.io`,
    ];
  };
  // Biased towards the blocks that are not public, so that both answers come up often.
  const address = fc.oneof(
    fc.nat({ max: 0xffffffff }),
    fc.constantFrom(0x00000000, 0x0a000000, 0x64400000, 0x7f000000, 0xa9fe0000, 0xac100000, 0xc0000000, 0xc0a80000, 0xc6120000, 0xe0000000, 0xf0000000).chain((base) =>
      fc.nat({ max: 0xffff }).map((low) => (base + low) >>> 0),
    ),
  );
  fc.assert(
    fc.property(address, (n) => {
      const [dotted, ...others] = spellings(n);
      const expected = isPrivateHost(dotted);
      for (const spelling of others) {
        expect(isPrivateHost(spelling), spelling).toBe(expected);
        if (!spelling.includes("[") && !spelling.includes("io")) expect(isPrivateHost(new URL(`http://${spelling}/`).hostname), spelling).toBe(expected);
      }
    }),
    { numRuns: 2_000 },
  );
});
