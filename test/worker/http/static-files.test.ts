// The browser scripts the worker serves from its own bundle (src/http/static-files.ts): validators
// and 304s, and Scalar's gzipped bytes sent as they are to clients that take gzip.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE, call, expectError } from "../support/helpers";

const get = (path: string, headers: Record<string, string> = {}) => exports.default.fetch(new Request(`${BASE}${path}`, { headers }));

describe("GET /docs/scalar.js", () => {
  // The bytes on the wire are checked end to end (test/e2e/docs.test.ts): a call to the worker's
  // own fetch handler hands the body over decoded.
  it("answers gzip-encoded to a client that takes gzip", async () => {
    const response = await get("/docs/scalar.js", { "accept-encoding": "br, gzip" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-encoding")).toBe("gzip");
    expect(response.headers.get("vary")).toBe("accept-encoding");
    expect(response.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await response.text()).toContain("api-reference");
  });

  it.each([
    ["no Accept-Encoding", {}],
    ["gzip refused (q=0)", { "accept-encoding": "gzip;q=0, br" }],
    ["an encoding it does not have", { "accept-encoding": "br" }],
  ])("sends the script decompressed to a client with %s", async (_name, headers) => {
    const response = await get("/docs/scalar.js", headers);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-encoding")).toBeNull();
    const text = await response.text();
    expect(text.length).toBeGreaterThan(1_000_000);
    expect(text).toContain("api-reference");
  });

  it("answers 404 with the JSON error for another file under /docs/", async () => {
    expectError(await call("GET", "/docs/other.js"), 404);
  });
});

describe.each(["/docs/scalar.js", "/messenger.js"])("the validator of %s", (path) => {
  it("is an ETag that answers If-None-Match with 304 and no body, in its strong and weak forms", async () => {
    const first = await get(path);
    const etag = first.headers.get("etag");
    await first.body?.cancel();
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    for (const ifNoneMatch of [etag!, `W/${etag}`, `"other", ${etag}`, "*"]) {
      const again = await get(path, { "if-none-match": ifNoneMatch });
      expect(again.status, ifNoneMatch).toBe(304);
      expect(again.headers.get("etag")).toBe(etag);
      expect(await again.text()).toBe("");
    }
    const changed = await get(path, { "if-none-match": '"other"' });
    expect(changed.status).toBe(200);
    await changed.body?.cancel();
  });
});
