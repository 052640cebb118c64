// The messenger as the worker serves it: small, self-contained, strict-CSP friendly, and the
// integrity hash the README publishes is the one of this build.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { bundleMessenger, integrity, MESSENGER_VERSION } from "../../src/cli/build-assets.ts";

const BUDGET_GZIPPED = 35 * 1024;
const bundle = bundleMessenger();
const text = bundle.toString("utf8");

describe("the messenger bundle", () => {
  it(`is at most ${BUDGET_GZIPPED / 1024} KB gzipped, realtime client included`, () => {
    const gzipped = gzipSync(bundle, { level: 9 }).length;
    console.log(`messenger.js: ${bundle.length} bytes, ${gzipped} bytes gzipped`);
    expect(gzipped).toBeLessThanOrEqual(BUDGET_GZIPPED);
  });

  it("runs no code from strings (no eval, no Function constructor, no string timers)", () => {
    expect(text).not.toMatch(/\beval\s*\(/);
    expect(text).not.toMatch(/\bnew\s+Function\s*\(|\bFunction\s*\(\s*["'`]/);
    expect(text).not.toMatch(/set(Timeout|Interval)\(\s*["'`]/);
  });

  it("names no other host (icons are inline SVG; the SVG namespace is a name, never fetched)", () => {
    const urls = [...text.matchAll(/(?:https?|wss?):\/\/[^\s"'`)]+/g)].map((m) => m[0]);
    expect(urls.filter((url) => url !== "http://www.w3.org/2000/svg")).toEqual([]);
    expect(text).not.toMatch(/@import|@font-face|fonts\.googleapis/);
  });

  it("is byte-for-byte the same on every build, so its integrity hash holds", () => {
    expect(bundleMessenger().equals(bundle)).toBe(true);
  });

  it("has the subresource-integrity hash the README publishes for its version", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const tag = `<script src="https://parley.example.com/messenger-${MESSENGER_VERSION}.js" integrity="${integrity(bundle)}" crossorigin="anonymous"></script>`;
    expect(readme.includes(tag), `the README's "Add chat to your site" should show:\n${tag}\n(bump src/browser/messenger/version.ts when the messenger changes)`).toBe(true);
  });
});
