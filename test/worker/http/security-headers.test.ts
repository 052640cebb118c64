import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { BASE, createApp, device, type TestApp } from "../support/helpers";

// Issue 11, item 10: security headers on every response, and CORS as browser SDKs need it.

let app: TestApp;

beforeAll(async () => {
  app = await createApp("headers");
});

const fetchWorker = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
  exports.default.fetch(new Request(`${BASE}${path}`, { method, headers, body }));

const REQUESTS: Array<[string, () => Promise<Response>]> = [
  ["the service information", () => fetchWorker("GET", "/")],
  ["the OpenAPI document", () => fetchWorker("GET", "/v1/openapi.json")],
  ["a 401", () => fetchWorker("GET", "/v1/webhooks")],
  ["a 404", () => fetchWorker("GET", "/v1/nothing-here")],
  ["a 400", () => fetchWorker("POST", "/v1/init", { ...app.token, "content-type": "application/json" }, "{}")],
  ["an init", () => fetchWorker("POST", "/v1/init", { ...app.token, "content-type": "application/json" }, JSON.stringify({ device: device("h") }))],
  ["the docs page", () => fetchWorker("GET", "/docs")],
  ["a faye handshake", () => fetchWorker("POST", "/faye", { "content-type": "application/json" }, JSON.stringify([{ channel: "/meta/handshake", version: "1.0", supportedConnectionTypes: ["long-polling"] }]))],
  ["a CORS preflight", () => fetchWorker("OPTIONS", "/v1/init", { origin: "https://shop.example.com", "access-control-request-method": "POST" })],
];

describe("security headers", () => {
  it.each(REQUESTS)("%s: nosniff, no referrer, and a Content-Security-Policy", async (_, send) => {
    const response = await send();
    expect(response.status).toBeLessThan(500);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    expect(response.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
    await response.body?.cancel();
  });

  it("keeps the docs page's own strict policy", async () => {
    const csp = (await fetchWorker("GET", "/docs")).headers.get("content-security-policy")!;
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).not.toMatch(/unsafe-eval/);
  });
});

describe("CORS for the browser SDKs", () => {
  it("lets any origin send what the Smooch widget and faye long-polling send", async () => {
    const wanted = ["app-token", "authorization", "content-type", "x-smooch-sdk", "pragma", "x-requested-with"];
    const response = await fetchWorker("OPTIONS", "/v1/appusers/x/conversation", {
      origin: "https://shop.example.com",
      "access-control-request-method": "POST",
      "access-control-request-headers": wanted.join(", "),
    });
    expect(response.status).toBeLessThan(300);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    const allowed = (response.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(/\s*,\s*/);
    for (const header of wanted) expect(allowed).toContain(header);
    expect(response.headers.get("access-control-allow-methods")).toMatch(/PUT/);
  });
});
