import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { bearer, forgeJwt, jsonSegment, sign, unsignedJwt } from "../../support/jwt.ts";
import { account, call, createApp, device, expectError, type TestApp } from "../support/helpers";

/**
 * A JWT whose header says whatever we like but whose signature is an HMAC-SHA256 with the real
 * secret: the algorithm-confusion forgery, which must be refused for its header alone.
 */
const forgedJwt = (header: Record<string, unknown>, payload: Record<string, unknown>, secret: string) =>
  forgeJwt(JSON.stringify(header), JSON.stringify(payload), secret);

/** Replaces a signed JWT's payload while keeping its signature. */
const withPayload = (jwt: string, payload: Record<string, unknown>) => {
  const [header, , signature] = jwt.split(".");
  return `${header}.${jsonSegment(payload)}.${signature}`;
};

const past = () => Math.floor(Date.now() / 1000) - 60;
const future = () => Math.floor(Date.now() / 1000) + 3600;

let a: TestApp;
let b: TestApp;
let alice: { _id: string; userId: string };
let bobA: { _id: string };
let anonymous: { _id: string };
let carolA: { _id: string };
let carolB: { _id: string };
let counter = 0;
const unique = (prefix: string) => `${prefix}-${++counter}`;

async function init(app: TestApp, userId?: string) {
  const response = await call("POST", "/v1/init", app.token, {
    body: { device: device(unique("device")), ...(userId !== undefined && { userId }) },
  });
  expect(response.status, JSON.stringify(response.json)).toBe(200);
  return response.json.appUser;
}

beforeAll(async () => {
  [a, b] = await Promise.all([createApp("app A"), createApp("app B")]);
  alice = await init(a, "alice@example.com");
  bobA = await init(a, "bob@example.com");
  anonymous = await init(a);
  carolA = await init(a, "carol");
  carolB = await init(b, "carol");
});

interface Signer {
  kid: string;
  secret: string;
}

/** One representative endpoint per kind of route, with the credential it is meant for. */
interface Endpoint {
  name: string;
  method: string;
  path: () => string;
  body?: () => unknown;
  signer: () => Signer;
  /** The JWT payload that grants access. */
  payload: () => Record<string, unknown>;
  ok: number;
}

const appSigner = () => ({ kid: a.keyId, secret: a.secret });
const accountSigner = () => ({ kid: env.ACCOUNT_KEY_ID, secret: env.ACCOUNT_SECRET });

const endpoints: Endpoint[] = [
  {
    name: "GET /v1/appusers/{id} (appUser route)",
    method: "GET",
    path: () => `/v1/appusers/${alice._id}`,
    signer: appSigner,
    payload: () => ({ scope: "appUser", userId: alice.userId }),
    ok: 200,
  },
  {
    name: "POST /v1/init",
    method: "POST",
    path: () => "/v1/init",
    body: () => ({ device: device(unique("device")), userId: alice.userId }),
    signer: appSigner,
    payload: () => ({ scope: "appUser", userId: alice.userId }),
    ok: 200,
  },
  {
    name: "POST /v1/appusers (pre-create)",
    method: "POST",
    path: () => "/v1/appusers",
    body: () => ({ userId: unique("precreated") }),
    signer: appSigner,
    payload: () => ({ scope: "app" }),
    ok: 201,
  },
  {
    name: "POST /v1/whispers",
    method: "POST",
    path: () => "/v1/whispers",
    body: () => ({ event: unique("event"), text: "hello" }),
    signer: appSigner,
    payload: () => ({ scope: "app" }),
    ok: 201,
  },
  {
    name: "GET /v1/apps (account route)",
    method: "GET",
    path: () => "/v1/apps",
    signer: accountSigner,
    payload: () => ({ scope: "account" }),
    ok: 200,
  },
];

const send = (endpoint: Endpoint, headers: Record<string, string>) =>
  call(endpoint.method, endpoint.path(), headers, endpoint.body ? { body: endpoint.body() } : {});

/** Each builds, for an endpoint, a credential that must be refused with 401 there. */
const refused: Array<[string, (e: Endpoint) => Promise<Record<string, string>>]> = [
  ["no credential", async () => ({})],
  ["an Authorization header with the Basic scheme", async () => ({ authorization: "Basic dXNlcjpwYXNz" })],
  ["an Authorization header without a scheme", async (e) => ({ authorization: await sign(e.payload(), e.signer().kid, e.signer().secret) })],
  ["an Authorization header 'Bearer' without a token", async () => ({ authorization: "Bearer" })],
  ["an Authorization header with two tokens", async () => ({ authorization: "Bearer abc def" })],
  ["a bearer that is not a JWT", async () => bearer("not-a-jwt")],
  ["a bearer of three segments that are not JSON", async () => bearer("abc.def.ghi")],
  ["an unsigned JWT (alg none)", async (e) => bearer(unsignedJwt(e.payload(), e.signer().kid))],
  ["an unsigned JWT (alg NONE)", async (e) => bearer(`${jsonSegment({ alg: "NONE", kid: e.signer().kid })}.${jsonSegment(e.payload())}.`)],
  ["an RS256 header over an HMAC signature", async (e) => bearer(await forgedJwt({ alg: "RS256", kid: e.signer().kid }, e.payload(), e.signer().secret))],
  ["an ES256 header over an HMAC signature", async (e) => bearer(await forgedJwt({ alg: "ES256", kid: e.signer().kid }, e.payload(), e.signer().secret))],
  ["a JWT with an unknown kid", async (e) => bearer(await sign(e.payload(), "0123456789abcdef01234567", e.signer().secret))],
  ["a JWT without a kid", async (e) => bearer(await forgedJwt({ alg: "HS256", typ: "JWT" }, e.payload(), e.signer().secret))],
  ["a JWT with a bad signature", async (e) => bearer(await sign(e.payload(), e.signer().kid, "not-the-secret"))],
  [
    "a JWT whose payload was changed after signing",
    async (e) => bearer(withPayload(await sign(e.payload(), e.signer().kid, e.signer().secret), { ...e.payload(), extra: 1 })),
  ],
  ["an expired JWT", async (e) => bearer(await sign(e.payload(), e.signer().kid, e.signer().secret, { exp: past() }))],
  ["a JWT without a scope", async (e) => bearer(await sign({ userId: alice.userId }, e.signer().kid, e.signer().secret))],
  ["a JWT with an unknown scope", async (e) => bearer(await sign({ scope: "admin" }, e.signer().kid, e.signer().secret))],
  ["an appUser-scope JWT without a userId", async () => bearer(await sign({ scope: "appUser" }, a.keyId, a.secret))],
  ["an appUser-scope JWT with an empty userId", async () => bearer(await sign({ scope: "appUser", userId: "" }, a.keyId, a.secret))],
  ["an app-scope JWT signed with the account key", async () => bearer(await sign({ scope: "app" }, env.ACCOUNT_KEY_ID, env.ACCOUNT_SECRET))],
  [
    "an appUser-scope JWT signed with the account key",
    async () => bearer(await sign({ scope: "appUser", userId: alice.userId }, env.ACCOUNT_KEY_ID, env.ACCOUNT_SECRET)),
  ],
  ["an account-scope JWT signed with an app key", async () => bearer(await sign({ scope: "account" }, a.keyId, a.secret))],
  ["an unknown app token", async () => ({ "app-token": "no-such-app-token" })],
];

const expectUnauthorized = (response: { status: number; headers: Headers; json: any }) => {
  expectError(response, 401);
  expect(response.json.error.code).toBe("unauthorized");
  expect(response.headers.get("www-authenticate")).toMatch(/^Bearer /);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
};

describe.each(endpoints)("$name", (endpoint) => {
  it.each(refused)("refuses %s with 401, WWW-Authenticate and a JSON error", async (_, credential) => {
    expectUnauthorized(await send(endpoint, await credential(endpoint)));
  });

  it.each(["HS256", "HS384", "HS512"])("accepts a JWT signed with %s", async (alg) => {
    const { kid, secret } = endpoint.signer();
    const response = await send(endpoint, bearer(await sign(endpoint.payload(), kid, secret, { alg })));
    expect(response.status, JSON.stringify(response.json)).toBe(endpoint.ok);
  });

  // Control for the hand-built forgeries above: with an honest header the same construction is accepted.
  it("accepts a hand-built HS256 JWT with a kid", async () => {
    const { kid, secret } = endpoint.signer();
    const response = await send(endpoint, bearer(await forgedJwt({ alg: "HS256", kid }, endpoint.payload(), secret)));
    expect(response.status, JSON.stringify(response.json)).toBe(endpoint.ok);
  });

  it("accepts a JWT whose exp is in the future", async () => {
    const { kid, secret } = endpoint.signer();
    const response = await send(endpoint, bearer(await sign(endpoint.payload(), kid, secret, { exp: future() })));
    expect(response.status, JSON.stringify(response.json)).toBe(endpoint.ok);
  });
});

describe("a key never reaches another app's data", () => {
  const cases: Array<[string, string, () => string, () => Promise<Record<string, string>>, unknown?]> = [
    ["A's app token reading B's user by _id", "GET", () => `/v1/appusers/${carolB._id}`, async () => a.token],
    ["A's app JWT reading B's user by _id", "GET", () => `/v1/appusers/${carolB._id}`, async () => a.server],
    ["A's app JWT posting to B's user", "POST", () => `/v1/appusers/${carolB._id}/messages`, async () => a.server, { text: "hi", role: "appMaker" }],
    ["A's app JWT under /v1/apps/{B}/appusers", "GET", () => `/v1/apps/${b.appId}/appusers/${carolB._id}`, async () => a.server],
    ["A's app JWT under /v1/apps/{B}/whispers", "GET", () => `/v1/apps/${b.appId}/whispers`, async () => a.server],
    ["A's app token under /v1/apps/{B}/init", "POST", () => `/v1/apps/${b.appId}/init`, async () => a.token, { device: device("d-b") }],
  ];

  it.each(cases)("%s is 404", async (_, method, path, credential, body) => {
    const response = await call(method, path(), await credential(), body === undefined ? {} : { body });
    expectError(response, 404);
    expect(response.json.error.code).toBe("not_found");
  });

  it("A's appUser JWT reading B's user by _id is the 403 of any other user (no enumeration)", async () => {
    expectError(await call("GET", `/v1/appusers/${carolB._id}`, await a.user("carol")), 403);
  });

  it("resolves a userId within the caller's own app only", async () => {
    for (const [app, carol] of [[a, carolA], [b, carolB]] as const) {
      const response = await call("GET", "/v1/appusers/carol", app.server);
      expect(response.json.appUser._id).toBe(carol._id);
    }
  });
});

describe("a valid credential of too small a scope is 403", () => {
  const appMaker = { text: "from the app", role: "appMaker" };
  const cases: Array<[string, string, () => string, () => Promise<Record<string, string>>, unknown?]> = [
    ["an app token pre-creating", "POST", () => "/v1/appusers", async () => a.token, { userId: "x1" }],
    ["an appUser JWT pre-creating", "POST", () => "/v1/appusers", () => a.user(alice.userId), { userId: "x2" }],
    ["an app token creating a whisper", "POST", () => "/v1/whispers", async () => a.token, { event: "e", text: "t" }],
    ["an app token listing whispers", "GET", () => "/v1/whispers", async () => a.token],
    ["an appUser JWT creating a whisper", "POST", () => "/v1/whispers", () => a.user(alice.userId), { event: "e", text: "t" }],
    ["an app token posting an appMaker message", "POST", () => `/v1/appusers/${alice._id}/messages`, async () => a.token, appMaker],
    ["an appUser JWT posting an appMaker message", "POST", () => `/v1/appusers/${alice._id}/messages`, () => a.user(alice.userId), appMaker],
    ["an app JWT listing apps", "GET", () => "/v1/apps", async () => a.server],
    ["an app JWT creating an app", "POST", () => "/v1/apps", async () => a.server, { name: "nope" }],
    ["an app JWT reading its own app", "GET", () => `/v1/apps/${a.appId}`, async () => a.server],
    ["an app JWT listing its own app's keys", "GET", () => `/v1/apps/${a.appId}/keys`, async () => a.server],
    ["an app token listing apps", "GET", () => "/v1/apps", async () => a.token],
    ["an appUser JWT listing apps", "GET", () => "/v1/apps", () => a.user(alice.userId)],
    ["an account JWT on /v1/appusers/{id} without an appId", "GET", () => `/v1/appusers/${alice._id}`, account],
    ["an account JWT on /v1/init without an appId", "POST", () => "/v1/init", account, { device: device("d-acct") }],
    ["an account JWT on /v1/appusers without an appId", "POST", () => "/v1/appusers", account, { userId: "x3" }],
    ["an account JWT on /v1/whispers without an appId", "GET", () => "/v1/whispers", account],
  ];

  it.each(cases)("%s", async (_, method, path, credential, body) => {
    const response = await call(method, path(), await credential(), body === undefined ? {} : { body });
    expectError(response, 403);
    expect(response.json.error.code).toBe("forbidden");
  });
});

describe("an appUser JWT reaches its own user only", () => {
  const cases: Array<[string, string, (id: string) => string, unknown?]> = [
    ["GET the user", "GET", (id) => `/v1/appusers/${id}`],
    ["PUT the user", "PUT", (id) => `/v1/appusers/${id}`, { givenName: "Mallory" }],
    ["track an event", "POST", (id) => `/v1/appusers/${id}/events`, { name: "login" }],
    ["GET the conversation", "GET", (id) => `/v1/appusers/${id}/conversation`],
    ["POST a message", "POST", (id) => `/v1/appusers/${id}/conversation/messages`, { text: "hi", role: "appUser" }],
    ["GET the messages", "GET", (id) => `/v1/appusers/${id}/messages`],
  ];

  it.each(cases)("another user's JWT may not %s (403)", async (_, method, path, body) => {
    for (const id of [alice._id, encodeURIComponent(alice.userId)]) {
      const response = await call(method, path(id), await a.user("bob@example.com"), body === undefined ? {} : { body });
      expectError(response, 403);
    }
  });

  it("refuses an appUser JWT on an anonymous user (403)", async () => {
    expectError(await call("GET", `/v1/appusers/${anonymous._id}`, await a.user(alice.userId)), 403);
  });

  it("refuses an appUser JWT for a userId that does not exist on an existing user (403)", async () => {
    expectError(await call("GET", `/v1/appusers/${bobA._id}`, await a.user("nobody")), 403);
  });

  it("accepts the user's own JWT by _id and by userId", async () => {
    for (const id of [alice._id, encodeURIComponent(alice.userId)]) {
      const response = await call("GET", `/v1/appusers/${id}`, await a.user(alice.userId));
      expect(response.status).toBe(200);
      expect(response.json.appUser._id).toBe(alice._id);
    }
  });
});

describe("an app user pre-created with credentialRequired: true", () => {
  const userId = "secure@example.com";
  let secure: { _id: string };

  beforeAll(async () => {
    const created = await call("POST", "/v1/appusers", a.server, { body: { userId, credentialRequired: true } });
    expect(created.status).toBe(201);
    expect(created.json.appUser.credentialRequired).toBe(true);
    secure = created.json.appUser;
  });

  const routes: Array<[string, (id: string) => string, unknown?]> = [
    ["GET", (id) => `/v1/appusers/${id}`],
    ["PUT", (id) => `/v1/appusers/${id}`, { givenName: "Eve" }],
    ["POST", (id) => `/v1/appusers/${id}/events`, { name: "login" }],
    ["GET", (id) => `/v1/appusers/${id}/conversation`],
    ["POST", (id) => `/v1/appusers/${id}/conversation/messages`, { text: "hi", role: "appUser" }],
    ["POST", (id) => `/v1/appusers/${id}/messages`, { text: "hi", role: "appUser" }],
    ["GET", (id) => `/v1/appusers/${id}/messages`],
  ];

  it.each(routes)("refuses the app token on %s %s (401)", async (method, path, body) => {
    for (const id of [secure._id, encodeURIComponent(userId)]) {
      expectUnauthorized(await call(method, path(id), a.token, body === undefined ? {} : { body }));
    }
  });

  it("refuses the app token on init with its userId (401)", async () => {
    expectUnauthorized(await call("POST", "/v1/init", a.token, { body: { device: device("d-secure"), userId } }));
  });

  it("accepts its appUser JWT on its routes and on init", async () => {
    const jwt = await a.user(userId);
    const posted = await call("POST", `/v1/appusers/${secure._id}/messages`, jwt, { body: { text: "hi", role: "appUser" } });
    expect(posted.status, JSON.stringify(posted.json)).toBe(201);
    expect((await call("GET", `/v1/appusers/${encodeURIComponent(userId)}`, jwt)).status).toBe(200);
    for (const body of [{ device: device("d-secure-1"), userId }, { device: device("d-secure-2") }]) {
      const response = await call("POST", "/v1/init", jwt, { body });
      expect(response.status, JSON.stringify(response.json)).toBe(200);
      expect(response.json.appUser._id).toBe(secure._id);
    }
  });

  it("accepts an app-scope JWT", async () => {
    expect((await call("GET", `/v1/appusers/${secure._id}`, a.server)).status).toBe(200);
  });
});

describe("init with an appUser JWT", () => {
  it("refuses a body userId that differs from the JWT's (403), creating no user", async () => {
    const response = await call("POST", "/v1/init", await a.user(alice.userId), {
      body: { device: device("d-mismatch"), userId: "mallory@example.com" },
    });
    expectError(response, 403);
    expectError(await call("GET", "/v1/appusers/mallory%40example.com", a.server), 404);
  });

  it("signs in the JWT's user when the body names no userId", async () => {
    const response = await call("POST", "/v1/init", await a.user(alice.userId), { body: { device: device("d-jwt") } });
    expect(response.status).toBe(200);
    expect(response.json.appUser._id).toBe(alice._id);
  });
});

describe("a deleted key", () => {
  it("stops working at once in the isolate that deleted it", async () => {
    const acct = await account();
    const created = await call("POST", `/v1/apps/${a.appId}/keys`, acct, { body: { name: "temporary" } });
    expect(created.status).toBe(201);
    const { _id: kid, secret } = created.json.key;
    const server = bearer(await sign({ scope: "app" }, kid, secret));
    const user = bearer(await sign({ scope: "appUser", userId: alice.userId }, kid, secret));
    // Used first, so that the key sits in this isolate's cache when it is deleted.
    expect((await call("GET", "/v1/whispers", server)).status).toBe(200);
    expect((await call("GET", `/v1/appusers/${alice._id}`, user)).status).toBe(200);

    expect((await call("DELETE", `/v1/apps/${a.appId}/keys/${kid}`, acct)).status).toBe(200);

    expectUnauthorized(await call("GET", "/v1/whispers", server));
    expectUnauthorized(await call("GET", `/v1/appusers/${alice._id}`, user));
    // The app's other key is untouched.
    expect((await call("GET", "/v1/whispers", a.server)).status).toBe(200);
  });
});
