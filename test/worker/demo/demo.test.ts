// The demo for local development: GET /demo and POST /demo/reply, on loopback hosts only.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { assertDemoAllowed } from "../../../src/demo/demo";
import worker from "../../../src/index";
import { isLoopbackHost } from "../../../src/lib/loopback";
import { ApiError } from "../../../src/errors";
import { parseBody } from "../../support/http.ts";
import { call, createApp, device, expectError, freshUser, hexId } from "../support/helpers";

/** A call to the worker as a browser on `origin` makes it. */
async function at(origin: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const init: RequestInit = { method, headers: { ...headers, ...(body !== undefined && { "content-type": "application/json" }) } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await exports.default.fetch(new Request(`${origin}${path}`, init));
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: text && response.headers.get("content-type")?.includes("json") ? parseBody(text) : undefined };
}

const LOCAL = "http://127.0.0.1:8787";

/** The demo page's app token, and a visitor initialised with it. */
async function demoVisitor() {
  const page = await at(LOCAL, "GET", "/demo");
  expect(page.status).toBe(200);
  const appToken = /data-app-token="([^"]+)"/.exec(page.text)![1];
  const init = await call("POST", "/v1/init", { "app-token": appToken }, { body: { device: device(`demo-${hexId()}`, "web") } });
  expect(init.status).toBe(200);
  return { appToken, appUserId: init.json.appUser._id as string, page };
}

describe("the demo's host check", () => {
  it("knows loopback names and addresses", () => {
    for (const host of ["localhost", "app.localhost", "127.0.0.1", "127.1.2.3", "[::1]", "::1", "LOCALHOST"]) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ["parley.test", "example.com", "10.0.0.1", "192.168.1.2", "localhost.example.com", "128.0.0.1"]) expect(isLoopbackHost(host), host).toBe(false);
  });

  it("lets DEMO_ENABLED open it on any host", () => {
    expect(() => assertDemoAllowed(env, "https://chat.example.com/demo")).toThrow(ApiError);
    expect(() => assertDemoAllowed({ ...env, DEMO_ENABLED: "true" } as Env, "https://chat.example.com/demo")).not.toThrow();
  });
});

describe("GET /demo", () => {
  it("answers 404 with the JSON error on a host that is not loopback", async () => {
    expectError(await call("GET", "/demo"), 404, "path");
  });

  it("serves the page for the Demo app, made once, with the messenger from this origin under a strict CSP", async () => {
    const first = await demoVisitor();
    const again = await at("http://localhost:8787", "GET", "/demo");
    expect(again.text).toContain(`data-app-token="${first.appToken}"`);
    const { page } = first;
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.text).toContain('<script src="/messenger.js"></script>');
    const csp = page.headers.get("content-security-policy")!;
    const nonce = /'nonce-([0-9a-f]+)'/.exec(csp)![1];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`script-src 'self' 'nonce-${nonce}'`);
    expect(csp).toContain("connect-src 'self' ws://127.0.0.1:8787");
    expect(csp).not.toContain("unsafe");
    expect(page.text).toContain(`<script nonce="${nonce}">`);
    const apps = await env.DB.prepare("SELECT COUNT(*) AS n FROM apps WHERE name = 'Demo'").first<{ n: number }>();
    expect(apps?.n).toBe(1);
  });
});

describe("POST /demo/reply", () => {
  it("posts as the Demo app's business to the visitor", async () => {
    const { appToken, appUserId } = await demoVisitor();
    const reply = await at(LOCAL, "POST", "/demo/reply", { appUserId, text: "Hello from the business" });
    expect(reply.status, reply.text).toBe(201);
    expect(reply.json.message).toMatchObject({ role: "appMaker", text: "Hello from the business", type: "text" });
    const conversation = await call("GET", `/v1/appusers/${appUserId}/messages`, { "app-token": appToken });
    expect(conversation.json.messages.map((m: { text: string }) => m.text)).toEqual(["Hello from the business"]);
    expect(conversation.json.conversation.unreadCount).toBe(1);
  });

  it("answers 403 to a request from another page, and takes one from the demo page", async () => {
    const { appUserId } = await demoVisitor();
    const elsewhere = await at(LOCAL, "POST", "/demo/reply", { appUserId, text: "hi" }, { origin: "https://evil.example" });
    expectError(elsewhere, 403, "origin");
    expect((await at(LOCAL, "POST", "/demo/reply", { appUserId, text: "hi" }, { origin: LOCAL })).status).toBe(201);
  });

  it("answers 400 naming the field for bad input", async () => {
    const { appUserId } = await demoVisitor();
    expectError(await at(LOCAL, "POST", "/demo/reply", { appUserId, text: "  " }), 400, "text");
    expectError(await at(LOCAL, "POST", "/demo/reply", { text: "hi" }), 400, "appUserId");
    expectError(await at(LOCAL, "POST", "/demo/reply", { appUserId: 42, text: "hi" }), 400, "appUserId");
  });

  it("answers 404 for a user of another app, and on a host that is not loopback", async () => {
    const other = await createApp("not the demo");
    const stranger = await freshUser(other);
    expectError(await at(LOCAL, "POST", "/demo/reply", { appUserId: stranger.id, text: "hi" }), 404, "appUserId");
    const { appUserId } = await demoVisitor();
    expectError(await call("POST", "/demo/reply", {}, { body: { appUserId, text: "hi" } }), 404, "path");
  });
});

describe("the demo's own page only (issue 21, finding 6)", () => {
  it("sends no CORS headers: neither the page, nor the reply, nor a preflight", async () => {
    const page = await at(LOCAL, "GET", "/demo", undefined, { origin: "https://evil.example" });
    expect(page.status).toBe(200);
    expect(page.headers.get("access-control-allow-origin")).toBeNull();
    const { appUserId } = await demoVisitor();
    const reply = await at(LOCAL, "POST", "/demo/reply", { appUserId, text: "hi" });
    expect(reply.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await at(LOCAL, "OPTIONS", "/demo/reply", undefined, { origin: "https://evil.example", "access-control-request-method": "POST" });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    expect(preflight.headers.get("access-control-allow-methods")).toBeNull();
    // The API keeps its CORS.
    expect((await at(LOCAL, "GET", "/v1/apps")).headers.get("access-control-allow-origin")).toBe("*");
  });

  it("finds its app by the stored mark, not by the name Demo, and makes a new one once it is deleted", async () => {
    const impostor = await createApp("Demo");
    const { appToken } = await demoVisitor();
    expect(appToken).not.toBe(impostor.appToken);
    const marked = await env.DB.prepare("SELECT app_id FROM demo_app").first<{ app_id: string }>();
    expect(marked?.app_id).toBeDefined();
    expect(marked?.app_id).not.toBe(impostor.appId);
    // Being deleted, as DELETE /v1/apps/{appId} leaves it until its eraser is done.
    await env.DB.prepare("UPDATE apps SET deleted_at = ? WHERE id = ?").bind(Date.now(), marked!.app_id).run();
    const after = await demoVisitor();
    expect(after.appToken).not.toBe(appToken);
    expect(after.appToken).not.toBe(impostor.appToken);
  });

  it("asks for DEMO_SECRET when it is set: 403 without it or with another, the page and its replies with it", async () => {
    const secured = { ...env, DEMO_SECRET: "s3cret-for-the-lan" } as Env;
    const fetchAt = async (path: string, init: RequestInit = {}) => {
      const ctx = createExecutionContext();
      const response = await worker.fetch!(new Request(`${LOCAL}${path}`, init) as never, secured, ctx);
      await waitOnExecutionContext(ctx);
      return response;
    };
    expectError(await asCall(await fetchAt("/demo")), 403, "secret");
    expectError(await asCall(await fetchAt("/demo?secret=guess")), 403, "secret");
    const page = await fetchAt("/demo?secret=s3cret-for-the-lan");
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('data-demo-secret="s3cret-for-the-lan"');
    const appToken = /data-app-token="([^"]+)"/.exec(html)![1];
    const visitor = await call("POST", "/v1/init", { "app-token": appToken }, { body: { device: device(`demo-${hexId()}`, "web") } });
    const body = JSON.stringify({ appUserId: visitor.json.appUser._id, text: "hi" });
    const json = { "content-type": "application/json" };
    expectError(await asCall(await fetchAt("/demo/reply", { method: "POST", headers: json, body })), 403, "secret");
    const sent = await fetchAt("/demo/reply", { method: "POST", headers: { ...json, "x-demo-secret": "s3cret-for-the-lan" }, body });
    expect(sent.status).toBe(201);
  });
});

async function asCall(response: Response) {
  const text = await response.text();
  return { status: response.status, json: text ? parseBody(text) : undefined };
}
