// GET /messenger.js and its versioned copy: the built script, from the assets binding.
import { describe, expect, it } from "vitest";
import { VERSION } from "../../../src/browser/messenger/version";
import { call, expectError } from "../support/helpers";

describe("GET /messenger.js", () => {
  it("answers the script, fetchable from any page, cached for five minutes", async () => {
    const response = await call("GET", "/messenger.js");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^(text|application)\/javascript/);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("cache-control")).toBe("public, max-age=300");
    expect(String(response.json)).toContain("Parley");
  });

  it("answers the same bytes under the versioned name, cached for good", async () => {
    const [latest, pinned] = await Promise.all([call("GET", "/messenger.js"), call("GET", `/messenger-${VERSION}.js`)]);
    expect(pinned.status).toBe(200);
    expect(pinned.json).toBe(latest.json);
    expect(pinned.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(pinned.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("answers 404 with the JSON error for a version that does not exist", async () => {
    expectError(await call("GET", "/messenger-0.0.0-none.js"), 404);
  });
});
