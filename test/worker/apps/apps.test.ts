import { env } from "cloudflare:test";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { bearer, sign, unsignedJwt } from "../../support/jwt.ts";
import { account, call, createApp, device, expectError, type TestApp } from "../support/helpers";

const HEX_ID = /^[0-9a-f]{24}$/;
const UNKNOWN_ID = "0123456789abcdef01234567";

let acct: Record<string, string>;
let a: TestApp;
let b: TestApp;

beforeAll(async () => {
  acct = await account();
  [a, b] = await Promise.all([createApp("app A"), createApp("app B")]);
});

const createAppNamed = async (name: string, settings?: Record<string, unknown>) => {
  const response = await call("POST", "/v1/apps", acct, { body: { name, ...(settings && { settings }) } });
  expect(response.status, JSON.stringify(response.json)).toBe(201);
  return response.json.app;
};

describe("POST /v1/apps", () => {
  it("creates an app: 201 with a 24-hex _id, its name, an appToken and empty settings", async () => {
    const response = await call("POST", "/v1/apps", acct, { body: { name: "My App" } });
    expect(response.status).toBe(201);
    const { app } = response.json;
    expect(app._id).toMatch(HEX_ID);
    expect(app.name).toBe("My App");
    expect(app.appToken).toEqual(expect.any(String));
    expect(app.appToken.length).toBeGreaterThanOrEqual(20);
    expect(app.settings).toEqual({});
  });

  it("keeps the settings it is given", async () => {
    const settings = { apnEnabled: true, gcmProject: "731399543244", maxUsers: 3 };
    const app = await createAppNamed("with settings", settings);
    expect(app.settings).toEqual(settings);
    expect((await call("GET", `/v1/apps/${app._id}`, acct)).json.app.settings).toEqual(settings);
  });

  it("gives every app its own _id and appToken", async () => {
    const [one, two] = await Promise.all([createAppNamed("one"), createAppNamed("two")]);
    expect(one._id).not.toBe(two._id);
    expect(one.appToken).not.toBe(two.appToken);
  });

  it.each<[string, unknown, string]>([
    ["a missing name", {}, "name"],
    ["a numeric name", { name: 5 }, "name"],
    ["an empty name", { name: "  " }, "name"],
    ["string settings", { name: "x", settings: "loud" }, "settings"],
    ["nested settings", { name: "x", settings: { nested: { a: 1 } } }, "settings"],
    ["array settings", { name: "x", settings: [1, 2] }, "settings"],
    ["settings over 4 KB", { name: "x", settings: { big: "x".repeat(5000) } }, "settings"],
    ["a body that is an array", [], "body"],
  ])("refuses %s with a 400 naming the field", async (_, body, field) => {
    expectError(await call("POST", "/v1/apps", acct, { body }), 400, field);
  });
});

describe("GET /v1/apps", () => {
  let all: Array<{ _id: string }>;

  beforeAll(async () => {
    // More than the default page of 25.
    for (let i = 0; i < 28; i++) await createAppNamed(`listed ${i}`);
    const response = await call("GET", "/v1/apps?limit=100", acct);
    expect(response.status).toBe(200);
    all = response.json.apps;
    expect(all.length).toBeGreaterThanOrEqual(30);
    expect(all.length).toBeLessThan(100);
  });

  it("lists apps with their _id, name, appToken and settings", () => {
    for (const app of all) expect(Object.keys(app).sort()).toEqual(["_id", "appToken", "name", "settings"]);
    expect(all.map((app) => app._id)).toEqual(expect.arrayContaining([a.appId, b.appId]));
  });

  it("returns the first 25 by default", async () => {
    const response = await call("GET", "/v1/apps", acct);
    expect(response.json.apps).toEqual(all.slice(0, 25));
  });

  it.each([
    ["limit=5", 0, 5],
    ["limit=5&offset=5", 5, 10],
    ["offset=3", 3, 28],
    ["limit=1&offset=2", 2, 3],
  ])("pages with %s", async (query, start, end) => {
    const response = await call("GET", `/v1/apps?${query}`, acct);
    expect(response.status).toBe(200);
    expect(response.json.apps).toEqual(all.slice(start, end));
  });

  it("returns an empty list past the end", async () => {
    expect((await call("GET", `/v1/apps?offset=${all.length}`, acct)).json).toEqual({ apps: [] });
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=101", "limit"],
    ["limit=abc", "limit"],
    ["limit=1.5", "limit"],
    ["offset=-1", "offset"],
    ["offset=first", "offset"],
  ])("refuses %s with a 400 naming the parameter", async (query, field) => {
    expectError(await call("GET", `/v1/apps?${query}`, acct), 400, field);
  });
});

describe("GET, PUT and DELETE /v1/apps/{appId}", () => {
  it("gets an app", async () => {
    const response = await call("GET", `/v1/apps/${a.appId}`, acct);
    expect(response.status).toBe(200);
    expect(response.json.app).toEqual({ _id: a.appId, name: "app A", appToken: a.appToken, settings: {} });
  });

  it("merges the settings it is given into the app's and keeps the name unless given", async () => {
    const app = await createAppNamed("to update", { apnEnabled: true, gcmProject: "1", keep: "me" });
    const renamed = await call("PUT", `/v1/apps/${app._id}`, acct, {
      body: { settings: { gcmProject: "2", hasIcon: true } },
    });
    expect(renamed.status).toBe(200);
    const merged = { apnEnabled: true, gcmProject: "2", keep: "me", hasIcon: true };
    expect(renamed.json.app).toEqual({ _id: app._id, name: "to update", appToken: app.appToken, settings: merged });

    const named = await call("PUT", `/v1/apps/${app._id}`, acct, { body: { name: "updated" } });
    expect(named.json.app).toEqual({ _id: app._id, name: "updated", appToken: app.appToken, settings: merged });
    expect((await call("GET", `/v1/apps/${app._id}`, acct)).json.app).toEqual(named.json.app);
  });

  it("feeds the merged settings to init's app object", async () => {
    const app = await createApp("init settings", { apnEnabled: true });
    await call("PUT", `/v1/apps/${app.appId}`, acct, { body: { settings: { gcmProject: "731399543244" } } });
    const init = await call("POST", "/v1/init", app.token, { body: { device: device("d-settings") } });
    expect(init.json.app).toMatchObject({ apnEnabled: true, gcmProject: "731399543244" });
  });

  it.each<[string, unknown, string]>([
    ["a numeric name", { name: 5 }, "name"],
    ["an empty name", { name: "" }, "name"],
    ["string settings", { settings: "loud" }, "settings"],
    ["nested settings", { settings: { deep: { er: true } } }, "settings"],
  ])("refuses an update with %s (400 naming the field)", async (_, body, field) => {
    expectError(await call("PUT", `/v1/apps/${a.appId}`, acct, { body }), 400, field);
  });

  it.each([
    ["GET", undefined],
    ["PUT", { name: "x" }],
    ["DELETE", undefined],
  ])("%s on an unknown app is 404", async (method, body) => {
    for (const id of [UNKNOWN_ID, "not-an-id"]) {
      const response = await call(method, `/v1/apps/${id}`, acct, body === undefined ? {} : { body });
      expectError(response, 404);
      expect(response.json.error.code).toBe("not_found");
    }
  });

  it("deletes an app: 200 {}, then it is gone and its app token and keys stop working", async () => {
    const app = await createApp("doomed");
    const { _id: userAppUserId } = (await call("POST", "/v1/init", app.token, { body: { device: device("d-doomed") } }))
      .json.appUser;
    // Used first, so that the token and key sit in this isolate's caches when the app is deleted.
    expect((await call("GET", `/v1/appusers/${userAppUserId}`, app.token)).status).toBe(200);
    expect((await call("GET", "/v1/whispers", app.server)).status).toBe(200);

    const deleted = await call("DELETE", `/v1/apps/${app.appId}`, acct);
    expect(deleted.status).toBe(200);
    expect(deleted.json).toEqual({});

    expectError(await call("GET", `/v1/apps/${app.appId}`, acct), 404);
    expectError(await call("DELETE", `/v1/apps/${app.appId}`, acct), 404);
    const listed = await call("GET", "/v1/apps?limit=100", acct);
    expect(listed.json.apps.map((x: { _id: string }) => x._id)).not.toContain(app.appId);
    expectError(await call("GET", `/v1/appusers/${userAppUserId}`, app.token), 401);
    expectError(await call("POST", "/v1/init", app.token, { body: { device: device("d-doomed-2") } }), 401);
    expectError(await call("GET", "/v1/whispers", app.server), 401);
    expectError(await call("POST", `/v1/apps/${app.appId}/init`, acct, { body: { device: device("d-doomed-3") } }), 404);
    // The background erasure finishes (and with it the eraser's alarm, which must not outlive the file).
    const row = () => env.DB.prepare("SELECT 1 FROM apps WHERE id = ?").bind(app.appId).first();
    await vi.waitUntil(async () => (await row()) === null, { timeout: 15_000, interval: 50 });
  });
});

describe("keys", () => {
  it("creates a key: 201 with a 24-hex _id, its name and a secret", async () => {
    const response = await call("POST", `/v1/apps/${a.appId}/keys`, acct, { body: { name: "backend" } });
    expect(response.status).toBe(201);
    const { key } = response.json;
    expect(key._id).toMatch(HEX_ID);
    expect(key.name).toBe("backend");
    expect(key.secret).toEqual(expect.any(String));
    expect(key.secret.length).toBeGreaterThanOrEqual(32);
  });

  it("lists, gets and deletes an app's keys", async () => {
    const app = await createApp("keyring");
    const created = await call("POST", `/v1/apps/${app.appId}/keys`, acct, { body: { name: "second" } });
    const second = created.json.key;

    const listed = await call("GET", `/v1/apps/${app.appId}/keys`, acct);
    expect(listed.status).toBe(200);
    expect(listed.json.keys).toEqual([{ _id: app.keyId, name: "server", secret: app.secret }, second]);

    const got = await call("GET", `/v1/apps/${app.appId}/keys/${second._id}`, acct);
    expect(got.status).toBe(200);
    expect(got.json.key).toEqual(second);

    const deleted = await call("DELETE", `/v1/apps/${app.appId}/keys/${second._id}`, acct);
    expect(deleted.status).toBe(200);
    expect(deleted.json).toEqual({});
    expectError(await call("GET", `/v1/apps/${app.appId}/keys/${second._id}`, acct), 404);
    expect((await call("GET", `/v1/apps/${app.appId}/keys`, acct)).json.keys.map((k: { _id: string }) => k._id)).toEqual([
      app.keyId,
    ]);
  });

  it("signs an app-scope JWT with a key, which then works as the app's credential", async () => {
    const response = await call("GET", `/v1/apps/${a.appId}/keys/${a.keyId}/jwt`, acct);
    expect(response.status).toBe(200);
    const { jwt } = response.json;
    expect(decodeProtectedHeader(jwt)).toMatchObject({ alg: "HS256", kid: a.keyId });
    expect(decodeJwt(jwt)).toMatchObject({ scope: "app" });

    const server = bearer(jwt);
    const created = await call("POST", "/v1/appusers", server, { body: { userId: "from-key-jwt" } });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect((await call("GET", "/v1/appusers/from-key-jwt", a.server)).json.appUser._id).toBe(created.json.appUser._id);
    expect((await call("POST", "/v1/whispers", server, { body: { event: "e", text: "t" } })).status).toBe(201);
    expectError(await call("GET", `/v1/apps/${b.appId}/whispers`, server), 404);
  });

  it.each<[string, string, () => string, unknown?]>([
    ["POST keys of an unknown app", "POST", () => `/v1/apps/${UNKNOWN_ID}/keys`, { name: "k" }],
    ["GET keys of an unknown app", "GET", () => `/v1/apps/${UNKNOWN_ID}/keys`],
    ["GET an unknown key", "GET", () => `/v1/apps/${a.appId}/keys/${UNKNOWN_ID}`],
    ["DELETE an unknown key", "DELETE", () => `/v1/apps/${a.appId}/keys/${UNKNOWN_ID}`],
    ["GET the jwt of an unknown key", "GET", () => `/v1/apps/${a.appId}/keys/${UNKNOWN_ID}/jwt`],
    ["GET another app's key", "GET", () => `/v1/apps/${a.appId}/keys/${b.keyId}`],
    ["DELETE another app's key", "DELETE", () => `/v1/apps/${a.appId}/keys/${b.keyId}`],
    ["GET the jwt of another app's key", "GET", () => `/v1/apps/${a.appId}/keys/${b.keyId}/jwt`],
    ["GET a key under an unknown app", "GET", () => `/v1/apps/${UNKNOWN_ID}/keys/${a.keyId}`],
  ])("%s is 404", async (_, method, path, body) => {
    const response = await call(method, path(), acct, body === undefined ? {} : { body });
    expectError(response, 404);
    expect(response.json.error.code).toBe("not_found");
  });

  it("leaves another app's key working after a refused DELETE", async () => {
    await call("DELETE", `/v1/apps/${a.appId}/keys/${b.keyId}`, acct);
    expect((await call("GET", `/v1/apps/${b.appId}/keys/${b.keyId}`, acct)).status).toBe(200);
    expect((await call("GET", "/v1/whispers", b.server)).status).toBe(200);
  });

  it.each<[string, unknown, string]>([
    ["a missing name", {}, "name"],
    ["a numeric name", { name: 42 }, "name"],
    ["an array name", { name: ["k"] }, "name"],
    ["an empty name", { name: "" }, "name"],
  ])("refuses a key with %s (400 naming the field)", async (_, body, field) => {
    expectError(await call("POST", `/v1/apps/${a.appId}/keys`, acct, { body }), 400, field);
  });
});

describe("the account API refuses every other credential", () => {
  let victim: TestApp;

  beforeAll(async () => {
    victim = await createApp("victim");
  });

  const endpoints: Array<[string, () => string, unknown?]> = [
    ["POST", () => "/v1/apps", { name: "intruder" }],
    ["GET", () => "/v1/apps"],
    ["GET", () => `/v1/apps/${victim.appId}`],
    ["PUT", () => `/v1/apps/${victim.appId}`, { name: "renamed" }],
    ["DELETE", () => `/v1/apps/${victim.appId}`],
    ["POST", () => `/v1/apps/${victim.appId}/keys`, { name: "intruder" }],
    ["GET", () => `/v1/apps/${victim.appId}/keys`],
    ["GET", () => `/v1/apps/${victim.appId}/keys/${victim.keyId}`],
    ["GET", () => `/v1/apps/${victim.appId}/keys/${victim.keyId}/jwt`],
    ["DELETE", () => `/v1/apps/${victim.appId}/keys/${victim.keyId}`],
    ["POST", () => `/v1/apps/${victim.appId}/integrations`, { type: "webpush" }],
    ["GET", () => `/v1/apps/${victim.appId}/integrations`],
    ["GET", () => `/v1/apps/${victim.appId}/integrations/${UNKNOWN_ID}`],
    ["DELETE", () => `/v1/apps/${victim.appId}/integrations/${UNKNOWN_ID}`],
  ];

  const past = () => Math.floor(Date.now() / 1000) - 60;
  const credentials: Array<[string, number, () => Promise<Record<string, string>>]> = [
    ["no credential", 401, async () => ({})],
    ["an expired account JWT", 401, async () => bearer(await sign({ scope: "account" }, env.ACCOUNT_KEY_ID, env.ACCOUNT_SECRET, { exp: past() }))],
    ["an unsigned account JWT", 401, async () => bearer(unsignedJwt({ scope: "account" }, env.ACCOUNT_KEY_ID))],
    ["an account JWT with an unknown kid", 401, async () => bearer(await sign({ scope: "account" }, UNKNOWN_ID, env.ACCOUNT_SECRET))],
    ["an account JWT with a bad signature", 401, async () => bearer(await sign({ scope: "account" }, env.ACCOUNT_KEY_ID, "wrong"))],
    ["an account-scope JWT signed with an app key", 401, async () => bearer(await sign({ scope: "account" }, victim.keyId, victim.secret))],
    ["the app's token", 403, async () => victim.token],
    ["the app's app-scope JWT", 403, async () => victim.server],
    ["an appUser JWT of the app", 403, () => victim.user("someone")],
  ];

  const matrix = endpoints.flatMap(([method, path, body]) =>
    credentials.map(([label, status, credential]) => [method, path, body, label, status, credential] as const),
  );

  it.each(matrix)("%s %s refuses %s", async (method, path, body, _label, status, credential) => {
    const response = await call(method, path(), await credential(), body === undefined ? {} : { body });
    expectError(response, status);
    if (status === 401) expect(response.headers.get("www-authenticate")).toBeTruthy();
  });

  it("leaves the app, its key and its integrations as they were", async () => {
    expect((await call("GET", `/v1/apps/${victim.appId}/integrations`, acct)).json.integrations).toEqual([]);
    const got = await call("GET", `/v1/apps/${victim.appId}`, acct);
    expect(got.json.app.name).toBe("victim");
    expect((await call("GET", `/v1/apps/${victim.appId}/keys`, acct)).json.keys.map((k: { _id: string }) => k._id)).toEqual([
      victim.keyId,
    ]);
  });
});

describe("the account reaches every app-level endpoint under /v1/apps/{appId}", () => {
  const under = (path: string) => `/v1/apps/${a.appId}${path}`;

  it("inits, reads and updates a user, tracks an event and manages its devices", async () => {
    const init = await call("POST", under("/init"), acct, { body: { device: device("acct-device"), userId: "acct-user" } });
    expect(init.status, JSON.stringify(init.json)).toBe(200);
    const id = init.json.appUser._id;
    // Created in app A, as A's own credentials see it.
    expect((await call("GET", `/v1/appusers/${id}`, a.server)).json.appUser.userId).toBe("acct-user");

    const got = await call("GET", under("/appusers/acct-user"), acct);
    expect(got.status).toBe(200);
    expect(got.json.appUser._id).toBe(id);

    const updated = await call("PUT", under(`/appusers/${id}`), acct, { body: { givenName: "Acct" } });
    expect(updated.status).toBe(200);
    expect(updated.json.appUser.givenName).toBe("Acct");

    const event = await call("POST", under(`/appusers/${id}/events`), acct, { body: { name: "signed-in" } });
    expect(event.status).toBe(200);
    expect(event.json).toEqual({ conversationUpdated: false });

    const deviceUpdate = await call("PUT", under(`/appusers/${id}/devices/acct-device`), acct, { body: { appVersion: "2.0" } });
    expect(deviceUpdate.status, JSON.stringify(deviceUpdate.json)).toBe(200);
    const pushToken = await call("POST", under(`/appusers/${id}/pushToken`), acct, {
      body: { deviceId: "acct-device", token: "push-token" },
    });
    expect(pushToken.status, JSON.stringify(pushToken.json)).toBe(200);
  });

  it("posts and reads messages, both appUser and appMaker, on both message paths", async () => {
    const init = await call("POST", under("/init"), acct, { body: { device: device("acct-device-2") } });
    const id = init.json.appUser._id;
    const first = await call("POST", under(`/appusers/${id}/conversation/messages`), acct, { body: { text: "hi", role: "appUser" } });
    expect(first.status, JSON.stringify(first.json)).toBe(201);
    const second = await call("POST", under(`/appusers/${id}/messages`), acct, { body: { text: "hello", role: "appMaker" } });
    expect(second.status, JSON.stringify(second.json)).toBe(201);

    const conversation = await call("GET", under(`/appusers/${id}/conversation`), acct);
    expect(conversation.status).toBe(200);
    expect(conversation.json.conversation.messages.map((m: { text: string }) => m.text)).toEqual(["hi", "hello"]);
    const messages = await call("GET", under(`/appusers/${id}/messages`), acct);
    expect(messages.json.messages.map((m: { role: string }) => m.role)).toEqual(["appUser", "appMaker"]);
  });

  it("pre-creates users and manages whispers", async () => {
    const created = await call("POST", under("/appusers"), acct, { body: { userId: "acct-precreated" } });
    expect(created.status, JSON.stringify(created.json)).toBe(201);

    const whisper = await call("POST", under("/whispers"), acct, { body: { event: "acct-event", text: "welcome" } });
    expect(whisper.status).toBe(201);
    const whisperId = whisper.json.whisper._id;
    expect((await call("GET", under("/whispers"), acct)).json.whispers.map((w: { _id: string }) => w._id)).toContain(whisperId);
    expect((await call("GET", under(`/whispers/${whisperId}`), acct)).status).toBe(200);
    // The app's own credential sees the same rule: it was stored in app A.
    expect((await call("GET", `/v1/whispers/${whisperId}`, a.server)).status).toBe(200);
    expect((await call("DELETE", under(`/whispers/${whisperId}`), acct)).status).toBe(200);
    expectError(await call("GET", under(`/whispers/${whisperId}`), acct), 404);
  });

  it("acts on the named app only", async () => {
    const carol = (await call("POST", "/v1/init", b.token, { body: { device: device("b-device"), userId: "carol-b" } })).json.appUser;
    expectError(await call("GET", under(`/appusers/${carol._id}`), acct), 404);
    expectError(await call("GET", under("/appusers/carol-b"), acct), 404);
    expect((await call("GET", `/v1/apps/${b.appId}/appusers/carol-b`, acct)).json.appUser._id).toBe(carol._id);
  });

  it.each<[string, string, unknown?]>([
    ["POST", "/init", { device: device("nowhere") }],
    ["GET", "/appusers/anyone"],
    ["GET", "/whispers"],
  ])("%s %s under an unknown app is 404", async (method, path, body) => {
    const response = await call(method, `/v1/apps/${UNKNOWN_ID}${path}`, acct, body === undefined ? {} : { body });
    expectError(response, 404);
    expect(response.json.error.code).toBe("not_found");
  });
});
