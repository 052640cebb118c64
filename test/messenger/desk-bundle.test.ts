// The Desk's page script as the worker serves it (/desk/desk.js): within its budget, and
// nothing a strict Content-Security-Policy or a closed network would refuse.
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { bundleDesk } from "../../src/cli/build-assets.ts";

const BUDGET_GZIPPED = 80 * 1024;
const bundle = bundleDesk();
const text = bundle.toString("utf8");

describe("the Desk bundle", () => {
  it(`is at most ${BUDGET_GZIPPED / 1024} KB gzipped`, () => {
    const gzipped = gzipSync(bundle, { level: 9 }).length;
    console.log(`desk/desk.js: ${bundle.length} bytes, ${gzipped} bytes gzipped`);
    expect(gzipped).toBeLessThanOrEqual(BUDGET_GZIPPED);
  });

  it("runs no code from strings and writes no HTML (user text goes in as text nodes)", () => {
    expect(text).not.toMatch(/\beval\s*\(/);
    expect(text).not.toMatch(/\bnew\s+Function\s*\(|\bFunction\s*\(\s*["'`]/);
    expect(text).not.toMatch(/\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write/);
  });

  it("names no other host", () => {
    const urls = [...text.matchAll(/(?:https?|wss?):\/\/[^\s"'`)]+/g)].map((m) => m[0]);
    expect(urls.filter((url) => url !== "http://www.w3.org/2000/svg")).toEqual([]);
  });
});
