import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { account, BASE, call, createApp, device, expectError, type TestApp } from "../support/helpers";

const LIMIT = 100 * 1024;
const ORIGIN = "https://shop.example.com";

let app: TestApp;
let counter = 0;
const newDevice = () => device(`protocol-device-${++counter}`);

/** An init body padded with an ignored field to exactly `bytes` bytes of JSON. */
function initBodyOfSize(bytes: number): string {
  const skeleton = JSON.stringify({ device: newDevice(), padding: "" });
  return JSON.stringify({ device: JSON.parse(skeleton).device, padding: "x".repeat(bytes - skeleton.length) });
}

beforeAll(async () => {
  app = await createApp("protocol");
});

describe("CORS", () => {
  it.each(["/v1/init", "/v1/appusers/someone/conversation/messages", "/v1/apps"])(
    "answers a preflight for %s allowing app-token, authorization, content-type and x-smooch-sdk",
    async (path) => {
      const response = await exports.default.fetch(
        new Request(`${BASE}${path}`, {
          method: "OPTIONS",
          headers: {
            origin: ORIGIN,
            "access-control-request-method": "POST",
            // What the Smooch web messenger asks for on every call.
            "access-control-request-headers": "app-token, authorization, content-type, x-smooch-sdk",
          },
        }),
      );
      expect(response.status).toBeLessThan(300);
      expect(response.headers.get("access-control-allow-origin")).toMatch(/^(\*|https:\/\/shop\.example\.com)$/);
      const allowed = (response.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(/\s*,\s*/);
      expect(allowed).toEqual(expect.arrayContaining(["app-token", "authorization", "content-type", "x-smooch-sdk"]));
      const methods = (response.headers.get("access-control-allow-methods") ?? "").split(/\s*,\s*/);
      expect(methods).toEqual(expect.arrayContaining(["GET", "POST", "PUT", "DELETE"]));
    },
  );

  const responses: Array<[string, () => Promise<{ status: number; headers: Headers }>, number]> = [
    ["a successful init", () => call("POST", "/v1/init", { ...app.token, origin: ORIGIN }, { body: { device: newDevice() } }), 200],
    ["a 401", () => call("GET", "/v1/appusers/someone", { origin: ORIGIN }), 401],
    ["a 403", () => call("GET", "/v1/whispers", { ...app.token, origin: ORIGIN }), 403],
    ["a 404 for an unknown route", () => call("GET", "/v1/nowhere", { origin: ORIGIN }), 404],
    ["a 400", () => call("POST", "/v1/init", { ...app.token, origin: ORIGIN }, { body: {} }), 400],
    [
      "a 413",
      () => call("POST", "/v1/init", { ...app.token, origin: ORIGIN, "content-type": "application/json" }, { raw: initBodyOfSize(LIMIT + 1) }),
      413,
    ],
  ];

  it.each(responses)("sets Access-Control-Allow-Origin on %s", async (_, send, status) => {
    const response = await send();
    expect(response.status).toBe(status);
    expect(response.headers.get("access-control-allow-origin")).toMatch(/^(\*|https:\/\/shop\.example\.com)$/);
  });
});

describe("unknown routes", () => {
  it.each([
    ["GET", "/nowhere"],
    ["GET", "/v1"],
    ["GET", "/v1/nowhere"],
    ["GET", "/v2/appusers/someone"],
    ["POST", "/v1/appusers/someone/unknown"],
    ["PATCH", "/v1/apps"],
    ["GET", "/v1/appusers/someone/conversation/messages/extra"],
  ])("%s %s is a JSON 404", async (method, path) => {
    const response = await call(method, path, app.token);
    expectError(response, 404);
    expect(response.json.error.code).toBe("not_found");
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  });
});

describe("request bodies", () => {
  it("accepts a JSON body of exactly 100 KB", async () => {
    const response = await call("POST", "/v1/init", app.token, {
      raw: initBodyOfSize(LIMIT),
      headers: { "content-type": "application/json" },
    });
    expect(response.status, JSON.stringify(response.json)).toBe(200);
  });

  it.each([
    ["declared by content-length", () => initBodyOfSize(LIMIT + 1)],
    [
      "streamed without a content-length",
      () => new Blob([initBodyOfSize(LIMIT * 2)]).stream(),
    ],
  ])("refuses a body over 100 KB %s with a JSON 413", async (_, body) => {
    const response = await call("POST", "/v1/init", app.token, { raw: body(), headers: { "content-type": "application/json" } });
    expectError(response, 413);
    expect(response.json.error.code).toBe("payload_too_large");
  });

  // The 100 KB limit leaves multipart to the image routes' own limit; a JSON route must not read it.
  it("refuses a multipart-labelled body on a JSON route without reading it (415)", async () => {
    const response = await call("POST", "/v1/init", app.token, {
      raw: initBodyOfSize(LIMIT * 3),
      headers: { "content-type": "multipart/form-data; boundary=x" },
    });
    expectError(response, 415, "content-type");
  });

  it("refuses a body over 100 KB on an account route too", async () => {
    const body = JSON.stringify({ name: "big", padding: "x".repeat(LIMIT) });
    expectError(await call("POST", "/v1/apps", await account(), { raw: body, headers: { "content-type": "application/json" } }), 413);
  });

  it.each([
    ["application/json", "{\"device\": "],
    ["application/json", "not json at all"],
    ["application/json; charset=utf-8", "{'device': {}}"],
    ["text/plain", "{\"device\": "],
    [undefined, "{\"device\": "],
  ])("refuses malformed JSON sent as %s with a JSON 400 naming the body", async (contentType, raw) => {
    const response = await call("POST", "/v1/init", app.token, {
      raw: contentType === undefined ? new TextEncoder().encode(raw) : raw,
      headers: contentType === undefined ? {} : { "content-type": contentType },
    });
    expectError(response, 400, "body");
    expect(response.json.error.code).toBe("bad_request");
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  });

  it.each([
    // A bytes body carries no content-type at all; a string body is labelled text/plain by fetch.
    ["no content-type", (json: string) => new TextEncoder().encode(json), {}],
    ["text/plain", (json: string) => json, { "content-type": "text/plain" }],
    ["application/json with a charset", (json: string) => json, { "content-type": "application/json; charset=utf-8" }],
    ["text/json", (json: string) => json, { "content-type": "text/json" }],
  ])("understands JSON sent with %s", async (_, encode, headers) => {
    const userId = `no-type-${++counter}`;
    const response = await call("POST", "/v1/init", app.token, {
      raw: encode(JSON.stringify({ device: newDevice(), userId })),
      headers,
    });
    expect(response.status, JSON.stringify(response.json)).toBe(200);
    expect(response.json.appUser.userId).toBe(userId);
  });

  it("treats an empty body without content-type as an empty object (400 naming the missing field)", async () => {
    expectError(await call("POST", "/v1/init", app.token, { raw: new Uint8Array(0) }), 400, "device");
  });
});

describe("paths", () => {
  const userId = "Bob.Smith+Test@Example.com";
  const encoded = encodeURIComponent(userId);
  let appUserId: string;

  beforeAll(async () => {
    const init = await call("POST", "/V1/INIT", app.token, { body: { device: newDevice(), userId } });
    expect(init.status, JSON.stringify(init.json)).toBe(200);
    expect(init.json.appUser.userId).toBe(userId);
    appUserId = init.json.appUser._id;
  });

  it.each<[string, () => string]>([
    ["/v1/appUsers/{userId}", () => `/v1/appUsers/${encoded}`],
    ["/V1/APPUSERS/{userId}", () => `/V1/APPUSERS/${encoded}`],
    ["/v1/AppUsers/{_id}", () => `/v1/AppUsers/${appUserId}`],
  ])("matches fixed segments without regard to case: GET %s", async (_, path) => {
    const response = await call("GET", path(), app.token);
    expect(response.status, JSON.stringify(response.json)).toBe(200);
    expect(response.json.appUser).toMatchObject({ _id: appUserId, userId });
  });

  it("posts and reads through /V1/APPUSERS/{id}/Conversation/Messages", async () => {
    const posted = await call("POST", `/V1/APPUSERS/${encoded}/Conversation/Messages`, app.token, {
      body: { text: "shouting", role: "appUser" },
    });
    expect(posted.status, JSON.stringify(posted.json)).toBe(201);
    const messages = await call("GET", `/V1/APPUSERS/${encoded}/Conversation/Messages`, app.token);
    expect(messages.status).toBe(200);
    expect(messages.json.messages.map((m: { text: string }) => m.text)).toContain("shouting");
    const conversation = await call("GET", `/v1/appusers/${appUserId}/CONVERSATION`, app.token);
    expect(conversation.status).toBe(200);
    expect(conversation.json.conversation.messages.map((m: { text: string }) => m.text)).toContain("shouting");
  });

  it("keeps the case of userIds: another case is another user", async () => {
    expectError(await call("GET", `/v1/appusers/${encodeURIComponent(userId.toLowerCase())}`, app.token), 404);
    expectError(await call("GET", `/v1/appusers/${encodeURIComponent(userId.toUpperCase())}`, app.token), 404);
  });

  it("folds the case of the segments after a userId that names a collection", async () => {
    const init = await call("POST", "/v1/init", app.token, { body: { device: newDevice(), userId: "Keys" } });
    expect(init.status).toBe(200);
    const posted = await call("POST", "/v1/appusers/Keys/Conversation/Messages", app.token, { body: { text: "hi", role: "appUser" } });
    expect(posted.status, JSON.stringify(posted.json)).toBe(201);
    expect((await call("GET", "/v1/appusers/Keys/Messages", app.token)).status).toBe(200);
  });

  it("matches account and app routes without regard to case while keeping ids", async () => {
    const acct = await account();
    const got = await call("GET", `/V1/Apps/${app.appId}/AppUsers/${encoded}`, acct);
    expect(got.status, JSON.stringify(got.json)).toBe(200);
    expect(got.json.appUser._id).toBe(appUserId);
    expect((await call("GET", `/v1/APPS/${app.appId}/Keys/${app.keyId}`, acct)).status).toBe(200);
    expect((await call("GET", "/v1/Whispers", app.server)).status).toBe(200);
  });
});

describe("concurrent changes", () => {
  // The app is read from D1 before any write (src/auth/authorize.ts, requireLiveApp): 404 at once.
  // A deletion landing between that read and the write is still the 409 of src/db/constraints.ts.
  it("answers 404, not 500, when the app is deleted while its credentials are still cached", async () => {
    const app = await createApp();
    // Cache the app token and the key in this isolate, as a busy edge location would.
    expect((await call("POST", "/v1/init", app.token, { body: { device: device("d0") } })).status).toBe(200);
    expect((await call("GET", "/v1/whispers", app.server)).status).toBe(200);
    // Another location deletes the app: this isolate does not hear of it until its cache expires.
    await env.DB.prepare("DELETE FROM apps WHERE id = ?").bind(app.appId).run();

    expectError(await call("POST", "/v1/init", app.token, { body: { device: device("d1") } }), 404);
    expectError(await call("POST", "/v1/appusers", app.server, { body: { userId: "late" } }), 404);
    expectError(await call("POST", "/v1/whispers", app.server, { body: { event: "e", text: "t" } }), 404);
    expectError(await call("POST", "/v1/webhooks", app.server, { body: { target: "https://hooks.example.com/x" } }), 404);
    expectError(await call("POST", "/v1/init", app.token, { body: { device: device("d2"), userId: "late-by-init" } }), 404);
  });

  it("answers 404 when an account adds a key to an app deleted since this isolate cached it", async () => {
    const app = await createApp();
    const acct = await account();
    expect((await call("GET", `/v1/apps/${app.appId}/keys`, acct)).status).toBe(200);
    await env.DB.prepare("DELETE FROM apps WHERE id = ?").bind(app.appId).run();
    expectError(await call("POST", `/v1/apps/${app.appId}/keys`, acct, { body: { name: "late" } }), 404);
  });

  it("keeps other database failures as server errors rather than calling them conflicts", async () => {
    const app = await createApp();
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const failing = vi.spyOn(env.DB, "prepare").mockImplementation(() => {
      throw new Error("D1_ERROR: CHECK constraint failed: something else");
    });
    try {
      expectError(await call("POST", "/v1/whispers", app.server, { body: { event: "e", text: "t" } }), 500);
    } finally {
      failing.mockRestore();
      logged.mockRestore();
    }
  });
});
