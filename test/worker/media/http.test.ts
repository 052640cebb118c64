import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { BASE, call, createApp } from "../support/helpers";

// Issue 11, item 8: media serving follows HTTP's conditional and range rules, and never runs script.

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...Array.from({ length: 24 }, (_, i) => i)]);
const SIZE = PNG.length;

let path: string;
let etag: string;

async function get(headers: Record<string, string> = {}, at = path, method = "GET") {
  const response = await exports.default.fetch(new Request(`${BASE}${at}`, { method, headers }));
  return { status: response.status, headers: response.headers, body: new Uint8Array(await response.arrayBuffer()) };
}

beforeAll(async () => {
  const app = await createApp("media http");
  const user = await call("POST", "/v1/appusers", app.server, { body: { userId: "viewer" } });
  const data = new FormData();
  data.append("source", new File([PNG], "x.html", { type: "text/html" }));
  data.append("role", "appUser");
  const uploaded = await call("POST", `/v1/appusers/${user.json.appUser._id}/images`, app.token, { raw: data });
  expect(uploaded.status, JSON.stringify(uploaded.json)).toBe(201);
  path = new URL(uploaded.json.message.mediaUrl).pathname;
  etag = (await get()).headers.get("etag")!;
});

describe("conditional requests", () => {
  it.each([['"not-it"'], ['"a", "b"'], ['W/"weak-other"']])("If-Match %s that does not match: 412, no body", async (value) => {
    const response = await get({ "if-match": value });
    expect(response.status).toBe(412);
    expect(JSON.parse(new TextDecoder().decode(response.body)).error.code).toBe("precondition_failed");
  });

  it("If-Match that matches (or *) serves the image", async () => {
    for (const value of [etag, "*", `"other", ${etag}`]) {
      const response = await get({ "if-match": value });
      expect(response.status, value).toBe(200);
      expect(response.body).toEqual(PNG);
    }
  });

  it("If-Match uses the strong comparison: a weak tag never matches", async () => {
    expect((await get({ "if-match": `W/${etag}` })).status).toBe(412);
  });

  it("If-None-Match that matches (exactly, weakly, in a list or *): 304 with the ETag and no body", async () => {
    for (const value of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
      const response = await get({ "if-none-match": value });
      expect(response.status, value).toBe(304);
      expect(response.body.length).toBe(0);
      expect(response.headers.get("etag")).toBe(etag);
    }
  });

  it("dates: If-Unmodified-Since before the upload is 412, If-Modified-Since after it 304 (each only without its ETag twin)", async () => {
    const past = new Date(Date.now() - 3_600_000).toUTCString();
    const future = new Date(Date.now() + 3_600_000).toUTCString();
    expect((await get({ "if-unmodified-since": past })).status).toBe(412);
    expect((await get({ "if-unmodified-since": future })).status).toBe(200);
    expect((await get({ "if-unmodified-since": past, "if-match": etag })).status).toBe(200);
    expect((await get({ "if-modified-since": future })).status).toBe(304);
    expect((await get({ "if-modified-since": past })).status).toBe(200);
    expect((await get({ "if-modified-since": future, "if-none-match": '"other"' })).status).toBe(200);
    expect((await get({ "if-modified-since": "not a date" })).status).toBe(200);
  });

  it("If-Range: the range holds for the current ETag only; otherwise the whole image", async () => {
    expect((await get({ range: "bytes=0-1", "if-range": etag })).status).toBe(206);
    expect((await get({ range: "bytes=0-1", "if-range": '"old"' })).status).toBe(200);
  });

  it("a failed If-Match wins over a Range", async () => {
    expect((await get({ "if-match": '"nope"', range: "bytes=0-1" })).status).toBe(412);
  });
});

describe("ranges", () => {
  it.each([
    ["a start past the end", `bytes=${SIZE}-`],
    ["a start far past the end", `bytes=${SIZE + 100}-${SIZE + 200}`],
    ["an empty suffix", "bytes=-0"],
  ])("unsatisfiable (%s): 416 with Content-Range bytes */size", async (_, range) => {
    const response = await get({ range });
    expect(response.status).toBe(416);
    expect(response.headers.get("content-range")).toBe(`bytes */${SIZE}`);
  });

  it.each([
    ["a unit other than bytes", "items=0-1"],
    ["no range at all", "bytes="],
    ["letters", "bytes=a-b"],
    ["an end before the start", "bytes=5-2"],
    ["a negative start", "bytes=--1"],
    ["several ranges", "bytes=0-1,4-5"],
    ["garbage", "\u00ff\u00fe"],
  ])("malformed (%s): ignored, as the RFC allows: the whole image with 200", async (_, range) => {
    const response = await get({ range });
    expect(response.status).toBe(200);
    expect(response.body).toEqual(PNG);
    expect(response.headers.get("content-range")).toBeNull();
  });

  it.each([`${SIZE * 10}`, "9".repeat(400)])("an end past the size (%s) is clamped: 206 up to the last byte", async (end) => {
    const response = await get({ range: `bytes=4-${end}` });
    expect(response.status).toBe(206);
    expect(response.headers.get("content-range")).toBe(`bytes 4-${SIZE - 1}/${SIZE}`);
    expect(response.body).toEqual(PNG.slice(4));
  });
});

describe("what the browser is told", () => {
  it("the sniffed type only, nosniff, and a CSP under which nothing in the file can run", async () => {
    for (const headers of [{}, { range: "bytes=0-3" }] as Record<string, string>[]) {
      const response = await get(headers);
      expect(response.headers.get("content-type")).toBe("image/png");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      const csp = response.headers.get("content-security-policy") ?? "";
      expect(csp).toMatch(/default-src 'none'/);
      expect(csp).toMatch(/\bsandbox\b/);
    }
  });

  it("ignores any other type or disposition the stored object carries", async () => {
    const key = "0123456789abcdef0123456789abcdef0123456789abcdef.png";
    await env.MEDIA.put(key, PNG, {
      httpMetadata: { contentType: "text/html", contentDisposition: "inline", contentEncoding: "gzip", contentLanguage: "xx" },
    });
    const response = await get({}, `/v1/media/${key}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/png");
    expect(response.headers.get("content-encoding")).toBeNull();
    expect(response.headers.get("content-language")).toBeNull();
    expect(response.headers.get("content-disposition")).toBeNull();
  });
});
