// The Desk's API behind Cloudflare Access (issue 26): tokens verified against a fake team key set
// served on a loopback team domain, agents scoped to their apps, and no change from another origin.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import worker from "../../../src/index";
import { accessEnv, DESK, fakeAccessTeam, type TokenOptions } from "../support/access-team";
import { account, call, createApp, expectError, freshUser, type TestApp } from "../support/helpers";

let team: Awaited<ReturnType<typeof fakeAccessTeam>>;
let app: TestApp;
let otherApp: TestApp;

beforeAll(async () => {
  team = await fakeAccessTeam();
  app = await createApp("desk access");
  otherApp = await createApp("desk other");
  const auth = await account();
  expect((await call("POST", `/v1/apps/${app.appId}/agents`, auth, { body: { email: "ana@example.com", name: "Ana" } })).status).toBe(201);
});

afterAll(() => vi.restoreAllMocks());

const accessToken = (options?: TokenOptions) => team.accessToken(options);

/** A request to the Desk API through the worker, with Access configured. */
async function desk(method: string, path: string, headers: Record<string, string> = {}, body?: unknown, environment: Env = accessEnv, origin = DESK) {
  const ctx = createExecutionContext();
  const form = body instanceof FormData;
  const request = new Request(`${origin}/desk/api${path}`, {
    method,
    headers: { ...headers, ...(body !== undefined && !form && { "content-type": "application/json" }) },
    body: body === undefined ? undefined : form ? body : JSON.stringify(body),
  });
  const response = await worker.fetch!(request as never, environment, ctx);
  await waitOnExecutionContext(ctx);
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined, headers: response.headers };
}

const header = async (options?: TokenOptions) => ({ "cf-access-jwt-assertion": await accessToken(options) });
const sameOrigin = { origin: DESK };

describe("the Desk behind Cloudflare Access", () => {
  it("lets a signed-in agent see their apps, by the header or the cookie", async () => {
    const byHeader = await desk("GET", "/apps", await header());
    expect(byHeader.status, JSON.stringify(byHeader.json)).toBe(200);
    expect(byHeader.json).toEqual({ email: "ana@example.com", apps: [{ _id: app.appId, name: "desk access" }] });
    const byCookie = await desk("GET", "/apps", { cookie: `theme=dark; CF_Authorization=${await accessToken()}` });
    expect(byCookie.json.apps).toHaveLength(1);
    expect(team.served.certFetches).toBeGreaterThan(0);
  });

  it.each<[string, TokenOptions | null]>([
    ["no token", null],
    ["a token signed by another key under the team's kid (forged)", { key: undefined as never }],
    ["an expired token", { exp: Math.floor(Date.now() / 1000) - 60 }],
    ["a token not valid yet", { nbf: Math.floor(Date.now() / 1000) + 600 }],
    ["a token for another application (wrong audience)", { aud: "another-app" }],
    ["a token of another team (wrong issuer)", { iss: "https://other.cloudflareaccess.com" }],
    ["a token naming a kid the team does not have", { kid: "unknown-kid", key: undefined as never }],
    ["a token without an email", { email: null }],
  ])("refuses %s with 401", async (_name, options) => {
    let headers: Record<string, string> = {};
    if (options) {
      const forged = "key" in options;
      headers = await header(forged ? { ...options, key: team.strangerKey } : options);
    }
    for (const [method, path] of [
      ["GET", "/apps"],
      ["GET", `/apps/${app.appId}/conversations`],
      ["POST", `/apps/${app.appId}/appusers/nobody/read`],
      ["GET", `/apps/${app.appId}/appusers/nobody/conversation`],
    ]) {
      const response = await desk(method, path, { ...headers, ...sameOrigin });
      expectError(response, 401);
    }
  });

  it("answers 403 for an app where the signed-in address is no agent, and lists it no app", async () => {
    const stranger = await header({ email: "eve@example.com" });
    expect((await desk("GET", "/apps", stranger)).json.apps).toEqual([]);
    expectError(await desk("GET", `/apps/${app.appId}/conversations`, stranger), 403, "appId");
    expectError(await desk("GET", `/apps/${otherApp.appId}/conversations`, await header()), 403, "appId");
    expectError(await desk("GET", "/apps/000000000000000000000000/conversations", await header()), 403, "appId");
    const user = await freshUser(app);
    expectError(await desk("GET", `/apps/${app.appId}/appusers/${user.id}/conversation`, stranger), 403, "appId");
    expectError(await desk("GET", `/apps/${otherApp.appId}/appusers/${user.id}/conversation`, await header()), 403, "appId");
  });

  it("reads one conversation's entry as the list shows it, a user not indexed yet as open and unassigned, and 404 for an unknown user", async () => {
    const auth = await header();
    const user = await freshUser(app, { givenName: "Una" });
    await call("POST", `/v1/appusers/${user.id}/messages`, app.server, { body: { role: "appUser", text: "Hi" } });
    await call("PUT", `/v1/appusers/${user.id}/conversation`, app.server, { body: { status: "closed", assignee: "ana@example.com" } });
    const listed = await vi.waitUntil(
      async () => (await desk("GET", `/apps/${app.appId}/conversations?status=closed`, auth)).json.conversations.find((e: any) => e.appUser._id === user.id && e.lastMessage),
      { timeout: 5_000, interval: 25 },
    );
    const read = await desk("GET", `/apps/${app.appId}/appusers/${user.id}/conversation`, auth);
    expect(read.status, JSON.stringify(read.json)).toBe(200);
    expect(read.json).toEqual({ conversation: listed });
    expect(read.json.conversation).toMatchObject({ status: "closed", assignee: { email: "ana@example.com", name: "Ana" } });

    const quiet = await freshUser(app, { givenName: "Quinn" });
    const fresh = await desk("GET", `/apps/${app.appId}/appusers/${quiet.id}/conversation`, auth);
    expect(fresh.json).toEqual({
      conversation: {
        appUser: { _id: quiet.id, userId: quiet.userId, givenName: "Quinn", properties: {} },
        lastMessage: null,
        lastActivity: null,
        businessUnreadCount: 0,
        status: "open",
        assignee: null,
      },
    });
    expectError(await desk("GET", `/apps/${app.appId}/appusers/nobody/conversation`, auth), 404, "appUserId");
  });

  it("lets an agent answer, read, triage and search; the answer is an appMaker message signed with the agent", async () => {
    const user = await freshUser(app, { givenName: "Vic" });
    const { json: asked } = await call("POST", `/v1/appusers/${user.id}/messages`, app.server, { body: { role: "appUser", text: "Is anyone there?" } });
    const auth = { ...(await header()), ...sameOrigin };
    const answered = await desk("POST", `/apps/${app.appId}/appusers/${user.id}/messages`, auth, { text: "Yes, Ana here." });
    expect(answered.status, JSON.stringify(answered.json)).toBe(201);
    expect(answered.json.message).toMatchObject({ role: "appMaker", text: "Yes, Ana here.", name: "Ana", email: "ana@example.com", avatarUrl: expect.stringContaining("gravatar") });

    const history = await desk("GET", `/apps/${app.appId}/appusers/${user.id}/messages`, auth);
    expect(history.json.messages.map((m: { _id: string }) => m._id)).toEqual([asked.message._id, answered.json.message._id]);
    expect(history.json.appUser).toMatchObject({ _id: user.id, givenName: "Vic" });

    expect((await desk("POST", `/apps/${app.appId}/appusers/${user.id}/read`, auth)).status).toBe(200);
    expect((await desk("POST", `/apps/${app.appId}/appusers/${user.id}/activity`, auth, { type: "typing:start" })).status).toBe(200);
    const triaged = await desk("PUT", `/apps/${app.appId}/appusers/${user.id}/conversation`, auth, { assignee: "ana@example.com" });
    expect(triaged.json.conversation.assignee).toEqual({ email: "ana@example.com", name: "Ana" });

    const entry = await vi.waitUntil(
      async () => (await desk("GET", `/apps/${app.appId}/conversations?assignee=ana@example.com`, auth)).json.conversations.find((e: any) => e.appUser._id === user.id && e.businessUnreadCount === 0),
      { timeout: 5_000, interval: 25 },
    );
    expect(entry.lastMessage.text).toBe("Yes, Ana here.");
    const found = await desk("GET", `/apps/${app.appId}/conversations/search?q=anyone`, auth);
    expect(found.json.results.map((r: any) => r.message._id)).toEqual([asked.message._id]);
    const agents = await desk("GET", `/apps/${app.appId}/agents`, auth);
    expect(agents.json.me).toEqual({ email: "ana@example.com", name: "Ana" });
  });

  it("changes nothing for a request from another origin, even with a valid cookie", async () => {
    const user = await freshUser(app);
    const cookie = { cookie: `CF_Authorization=${await accessToken()}` };
    for (const origin of [{ origin: "https://evil.example" }, {}] as Array<Record<string, string>>) {
      expectError(await desk("POST", `/apps/${app.appId}/appusers/${user.id}/messages`, { ...cookie, ...origin }, { text: "forged" }), 403, "origin");
      expectError(await desk("PUT", `/apps/${app.appId}/appusers/${user.id}/conversation`, { ...cookie, ...origin }, { status: "closed" }), 403, "origin");
    }
    const { json } = await call("GET", `/v1/appusers/${user.id}/messages`, app.server);
    expect(json.messages).toEqual([]);
    const state = await env.DB.prepare("SELECT status FROM conversation_index WHERE app_user_id = ?").bind(user.id).first();
    expect(state).toBeNull();
  });

  it("refuses bad input with a 400 naming the field", async () => {
    const user = await freshUser(app);
    const auth = { ...(await header()), ...sameOrigin };
    expectError(await desk("POST", `/apps/${app.appId}/appusers/${user.id}/messages`, auth, { text: " " }), 400, "text");
    expectError(await desk("PUT", `/apps/${app.appId}/appusers/${user.id}/conversation`, auth, { assignee: "eve@example.com" }), 400, "assignee");
    expectError(await desk("GET", `/apps/${app.appId}/conversations?status=maybe`, auth), 400, "status");
    expectError(await desk("GET", `/apps/${app.appId}/appusers/nobody/messages`, auth), 404, "appUserId");
  });
});

describe("the Desk's images and profile", () => {
  const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1]);
  const imageForm = (source: Blob | string | null = new File([PNG], "photo.png", { type: "image/png" })) => {
    const data = new FormData();
    if (source !== null) data.set("source", source);
    return data;
  };
  const imagesPath = (id: string) => `/apps/${app.appId}/appusers/${id}/images`;

  it("sends an agent's image as an appMaker image message signed with the agent", async () => {
    const user = await freshUser(app);
    const auth = { ...(await header()), ...sameOrigin };
    const sent = await desk("POST", imagesPath(user.id), auth, imageForm());
    expect(sent.status, JSON.stringify(sent.json)).toBe(201);
    expect(Object.keys(sent.json)).toEqual(["message"]);
    expect(sent.json.message).toMatchObject({
      type: "image",
      role: "appMaker",
      name: "Ana",
      email: "ana@example.com",
      mediaType: "image/png",
      mediaUrl: expect.stringMatching(/\/v1\/media\//),
      avatarUrl: expect.stringContaining("gravatar"),
    });
    const stored = await env.MEDIA.get(new URL(sent.json.message.mediaUrl).pathname.split("/").at(-1)!);
    expect(stored && new Uint8Array(await stored.arrayBuffer())).toEqual(PNG);
    const history = await desk("GET", `/apps/${app.appId}/appusers/${user.id}/messages`, auth);
    expect(history.json.messages.at(-1)).toEqual(sent.json.message);
  });

  it("refuses an upload without an image with a 400 or 415 naming the field", async () => {
    const user = await freshUser(app);
    const auth = { ...(await header()), ...sameOrigin };
    expectError(await desk("POST", imagesPath(user.id), auth, imageForm(null)), 400, "source");
    expectError(await desk("POST", imagesPath(user.id), auth, imageForm("not a file")), 400, "source");
    expectError(await desk("POST", imagesPath(user.id), auth, imageForm(new File([], "empty.png"))), 400, "source");
    expectError(await desk("POST", imagesPath(user.id), auth, imageForm(new File(["<svg/>"], "x.png", { type: "image/png" }))), 415, "source");
    expectError(await desk("POST", imagesPath(user.id), auth, { text: "json, not a form" }), 400, "body");
    const { json } = await call("GET", `/v1/appusers/${user.id}/messages`, app.server);
    expect(json.messages).toEqual([]);
  });

  it("refuses an upload from another origin, and from an address that is no agent of the app", async () => {
    const user = await freshUser(app);
    const cookie = { cookie: `CF_Authorization=${await accessToken()}` };
    for (const origin of [{ origin: "https://evil.example" }, {}] as Array<Record<string, string>>) {
      expectError(await desk("POST", imagesPath(user.id), { ...cookie, ...origin }, imageForm()), 403, "origin");
    }
    expectError(await desk("POST", imagesPath(user.id), { ...(await header({ email: "eve@example.com" })), ...sameOrigin }, imageForm()), 403, "appId");
    expectError(await desk("POST", imagesPath(user.id), sameOrigin, imageForm()), 401);
    const { json } = await call("GET", `/v1/appusers/${user.id}/messages`, app.server);
    expect(json.messages).toEqual([]);
  });

  it("shows the user's devices with the history: platform, appVersion and info, never a push token or device id", async () => {
    const deviceId = `phone-${crypto.randomUUID()}`;
    const init = await call("POST", "/v1/init", app.token, {
      body: { device: { id: deviceId, platform: "ios", appVersion: "2.4.1", info: { os: "iOS 17" } }, userId: `dev-${crypto.randomUUID()}@example.com` },
    });
    expect(init.status, JSON.stringify(init.json)).toBe(200);
    const id = init.json.appUser._id;
    expect((await call("POST", `/v1/appusers/${id}/pushtoken`, app.server, { body: { deviceId, token: "secret-push-token" } })).status).toBe(200);
    const history = await desk("GET", `/apps/${app.appId}/appusers/${id}/messages`, await header());
    expect(history.status, JSON.stringify(history.json)).toBe(200);
    expect(history.json.devices).toEqual([{ platform: "ios", appVersion: "2.4.1", info: { os: "iOS 17" } }]);
    expect(JSON.stringify(history.json)).not.toContain("secret-push-token");
    expect(JSON.stringify(history.json)).not.toContain(deviceId);
    const bare = await freshUser(app);
    expect((await desk("GET", `/apps/${app.appId}/appusers/${bare.id}/messages`, await header())).json.devices).toEqual([]);
  });
});

describe("the Desk without Access", () => {
  it("answers on a loopback host as a local agent of every app", async () => {
    const local = await desk("GET", "/apps", {}, undefined, env, "http://127.0.0.1:8787");
    expect(local.status).toBe(200);
    expect(local.json.email).toBe("agent@localhost");
    expect(local.json.apps.map((a: { _id: string }) => a._id)).toEqual(expect.arrayContaining([app.appId, otherApp.appId]));
    const user = await freshUser(otherApp);
    const answered = await desk("POST", `/apps/${otherApp.appId}/appusers/${user.id}/messages`, { origin: "http://127.0.0.1:8787" }, { text: "hi" }, env, "http://127.0.0.1:8787");
    expect(answered.json.message).toMatchObject({ role: "appMaker", name: "Local agent" });
  });

  it("lets the local agent assign itself (it becomes an agent of the app), and no one else who is not an agent", async () => {
    const local = "http://127.0.0.1:8787";
    const user = await freshUser(otherApp);
    await call("POST", `/v1/appusers/${user.id}/messages`, otherApp.server, { body: { role: "appUser", text: "Hi" } });
    const path = `/apps/${otherApp.appId}/appusers/${user.id}/conversation`;
    for (let twice = 0; twice < 2; twice++) {
      const assigned = await desk("PUT", path, { origin: local }, { assignee: "Agent@localhost" }, env, local);
      expect(assigned.status, JSON.stringify(assigned.json)).toBe(200);
      expect(assigned.json.conversation.assignee).toEqual({ email: "agent@localhost", name: "Local agent" });
    }
    expectError(await desk("PUT", path, { origin: local }, { assignee: "eve@example.com" }, env, local), 400, "assignee");
    // The "mine" filter takes the local agent's address too (once the message is indexed).
    const mine = () => desk("GET", `/apps/${otherApp.appId}/conversations?assignee=agent@localhost`, {}, undefined, env, local);
    await vi.waitUntil(async () => (await mine()).json.conversations.length > 0, { timeout: 5_000, interval: 25 });
    expect((await mine()).json.conversations.map((e: { appUser: { _id: string } }) => e.appUser._id)).toEqual([user.id]);
    const { json } = await call("GET", `/v1/apps/${otherApp.appId}/agents`, await account());
    expect(json.agents.map((a: { email: string }) => a.email)).toEqual(["agent@localhost"]);
  });

  it("is 404 even on a loopback Host while the dev server is reachable from the network (DEMO_SECRET set)", async () => {
    const exposed = { ...env, DEMO_SECRET: "s3cret-for-the-lan" } as Env;
    expectError(await desk("GET", "/apps", {}, undefined, exposed, "http://127.0.0.1:8787"), 404);
    expect((await page("/desk", {}, exposed, "http://localhost:8787")).status).toBe(404);
  });

  it("is 404 on any other host", async () => {
    expectError(await desk("GET", "/apps", {}, undefined, env), 404);
    expectError(await desk("GET", `/apps/${app.appId}/conversations`, await header(), undefined, env), 404);
  });
});

/** A GET of the Desk's page or script through the worker. */
async function page(path: "/desk" | "/desk/desk.js", headers: Record<string, string> = {}, environment: Env = accessEnv, origin = DESK) {
  const ctx = createExecutionContext();
  const response = await worker.fetch!(new Request(`${origin}${path}`, { headers }) as never, environment, ctx);
  await waitOnExecutionContext(ctx);
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe("the Desk's page", () => {
  it("is served to a signed-in person, with a strict Content-Security-Policy and its script", async () => {
    const html = await page("/desk", await header());
    expect(html.status).toBe(200);
    expect(html.headers.get("content-type")).toMatch(/^text\/html/);
    expect(html.text).toContain('<script src="/desk/desk.js" defer></script>');
    const csp = Object.fromEntries(html.headers.get("content-security-policy")!.split("; ").map((d) => [d.split(" ")[0], d.split(" ").slice(1).join(" ")]));
    expect(csp).toMatchObject({
      "default-src": "'none'",
      "script-src": "'self'",
      "style-src": "'none'",
      "connect-src": "'self' wss://desk.example.com",
      "img-src": "'self' blob:",
      "frame-ancestors": "'none'",
    });
    expect(html.text).not.toMatch(/<script(?![^>]*\bsrc=)/);
    const script = await page("/desk/desk.js", { cookie: `CF_Authorization=${await accessToken()}` });
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toMatch(/javascript/);
    expect(script.headers.get("cache-control")).toBe("private, no-cache");
    expect(script.text.length).toBeGreaterThan(1000);
  });

  it("shows images from PUBLIC_URL's origin when that is another", async () => {
    const html = await page("/desk", await header(), { ...accessEnv, PUBLIC_URL: "https://media.example.com" });
    expect(html.headers.get("content-security-policy")).toContain("img-src 'self' blob: https://media.example.com;");
    expect(html.text).toContain('data-media-origin="https://media.example.com"');
  });

  it.each<[string, TokenOptions | null]>([
    ["no token", null],
    ["an expired token", { exp: Math.floor(Date.now() / 1000) - 60 }],
    ["a token for another application", { aud: "another-app" }],
  ])("answers 401 to %s, for the page and its script", async (_name, options) => {
    const headers = options ? await header(options) : {};
    for (const path of ["/desk", "/desk/desk.js"] as const) {
      const response = await page(path, headers);
      expect(response.status, path).toBe(401);
      expect(JSON.parse(response.text).error.code).toBe("unauthorized");
    }
  });

  it("without Access, is served on a loopback host only (404 elsewhere)", async () => {
    expect((await page("/desk", {}, env, "http://127.0.0.1:8787")).status).toBe(200);
    expect((await page("/desk/desk.js", {}, env, "http://localhost:8787")).status).toBe(200);
    for (const path of ["/desk", "/desk/desk.js"] as const) expect((await page(path, {}, env)).status, path).toBe(404);
  });
});
