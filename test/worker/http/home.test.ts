// The service root and the favicon: where a newcomer who opens the server's address is pointed.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call } from "../support/helpers";

const get = (url: string, headers: Record<string, string> = {}) => exports.default.fetch(new Request(url, { headers }));

describe("GET /", () => {
  it("links the API reference and the OpenAPI document, and not the demo on a public host", async () => {
    const { status, json } = await call("GET", "/");
    expect(status).toBe(200);
    expect(json).toEqual({ name: "parley", api: "/v1", docs: "/docs", openapi: "/v1/openapi.json" });
  });

  it("links the demo too in local development (a loopback host)", async () => {
    const response = await get("http://127.0.0.1:8787/");
    expect(((await response.json()) as { demo?: string }).demo).toBe("/demo");
  });

  it("answers a browser with a page of the same links", async () => {
    const response = await get("http://localhost:8787/", { accept: "text/html,application/xhtml+xml" });
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(response.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
    const html = await response.text();
    for (const href of ["/docs", "/v1/openapi.json", "/demo"]) expect(html).toContain(`<a href="${href}">`);
    const remote = await (await get("https://parley.test/", { accept: "text/html" })).text();
    expect(remote).toContain('<a href="/docs">');
    expect(remote).not.toContain("/demo");
  });
});

describe("GET /favicon.ico", () => {
  it("is an SVG icon, so browsers log no 404", async () => {
    const response = await get("https://parley.test/favicon.ico");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/svg+xml");
    expect(await response.text()).toMatch(/^<svg /);
  });
});
