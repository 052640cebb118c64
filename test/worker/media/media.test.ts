import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { BASE, call, createApp, expectError } from "../support/helpers";

// A GIF with a few more bytes than the signature, so that ranges cut somewhere meaningful.
const GIF = new Uint8Array([
  ...Array.from("GIF89a", (ch) => ch.charCodeAt(0)),
  1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x21, 0xf9, 4, 1, 0, 0, 0, 0, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 1, 0, 0x3b,
]);

let mediaPath: string;

/** GETs a media path through the worker, keeping the body as bytes. */
async function get(path: string, headers: Record<string, string> = {}) {
  const response = await exports.default.fetch(new Request(`${BASE}${path}`, { headers }));
  return { status: response.status, headers: response.headers, body: new Uint8Array(await response.arrayBuffer()) };
}

beforeAll(async () => {
  const app = await createApp("media");
  const user = await call("POST", "/v1/appusers", app.server, { body: { userId: "viewer" } });
  const data = new FormData();
  // Declared as JPEG: what is served must follow the bytes, not the declaration.
  data.append("source", new File([GIF], "photo.jpg", { type: "image/jpeg" }));
  data.append("role", "appUser");
  const uploaded = await call("POST", `/v1/appusers/${user.json.appUser._id}/images`, app.token, { raw: data });
  expect(uploaded.status, JSON.stringify(uploaded.json)).toBe(201);
  mediaPath = new URL(uploaded.json.message.mediaUrl).pathname;
});

describe("GET the mediaUrl", () => {
  it("serves the uploaded bytes with their sniffed type, without any credential", async () => {
    const response = await get(mediaPath);
    expect(response.status).toBe(200);
    expect(response.body).toEqual(GIF);
    expect(response.headers.get("content-type")).toBe("image/gif");
    expect(response.headers.get("content-length")).toBe(String(GIF.length));
  });

  it("lets caches keep the bytes only if they revalidate (a deleted image is gone at once), and forbids sniffing", async () => {
    const { headers } = await get(mediaPath);
    expect(headers.get("etag")).toMatch(/^(W\/)?"[^"]+"$/);
    const cacheControl = headers.get("cache-control") ?? "";
    expect(cacheControl).toMatch(/\bno-cache\b/);
    expect(cacheControl).not.toMatch(/\bimmutable\b|max-age/);
    expect(headers.get("x-content-type-options")).toBe("nosniff");
  });

  it.each([
    ["the first 4 bytes", "bytes=0-3", 0, 4],
    ["a middle range", "bytes=6-9", 6, 10],
    ["everything from an offset", "bytes=10-", 10, GIF.length],
    ["the last 4 bytes (suffix)", "bytes=-4", GIF.length - 4, GIF.length],
    ["a suffix longer than the file (the whole file)", "bytes=-1000", 0, GIF.length],
  ])("answers a Range for %s with 206 and Content-Range", async (_, range, start, end) => {
    const response = await get(mediaPath, { range });
    expect(response.status).toBe(206);
    expect(response.headers.get("content-range")).toBe(`bytes ${start}-${end - 1}/${GIF.length}`);
    expect(response.body).toEqual(GIF.slice(start, end));
    expect(response.headers.get("content-length")).toBe(String(end - start));
    expect(response.headers.get("content-type")).toBe("image/gif");
  });

  it("answers a Range that starts past the end with 416 and the object's size", async () => {
    const response = await get(mediaPath, { range: `bytes=${GIF.length}-${GIF.length + 10}` });
    expect(response.status).toBe(416);
    expect(response.headers.get("content-range")).toBe(`bytes */${GIF.length}`);
    expect(JSON.parse(new TextDecoder().decode(response.body)).error.code).toBe("range_not_satisfiable");
  });

  it("answers If-None-Match with the current ETag with 304 and no body", async () => {
    const etag = (await get(mediaPath)).headers.get("etag")!;
    const response = await get(mediaPath, { "if-none-match": etag });
    expect(response.status).toBe(304);
    expect(response.body.length).toBe(0);
    expect(response.headers.get("etag")).toBe(etag);
  });

  it("answers If-None-Match with another ETag with the full image", async () => {
    const response = await get(mediaPath, { "if-none-match": '"not-the-etag"' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual(GIF);
  });

  it.each([
    ["an unknown key", "/v1/media/000000000000000000000000000000000000000000000000.png"],
    ["a key with another extension", () => mediaPath.replace(/\.[a-z]+$/, ".png")],
  ])("answers %s with a JSON 404", async (_, path) => {
    const response = await call("GET", typeof path === "function" ? path() : path);
    expectError(response, 404);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  });
});
