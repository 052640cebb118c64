// wrangler.toml sends every request to the worker first except the static files, each named: a
// file the build writes (a new messenger version's) must be added there, and a path there that
// the build does not write is answered by the assets server's bare 404 instead of the API's.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { SERVED_PATHS } from "../../src/cli/build-assets.ts";
import { ROOT } from "../support/config-copy.ts";

const rules: string[] = JSON.parse(/^run_worker_first\s*=\s*(\[.*\])$/m.exec(readFileSync(join(ROOT, "wrangler.toml"), "utf8"))![1]);

/** Wrangler's rule syntax: `*` matches any characters, a leading `!` excludes. */
const matches = (rule: string, path: string) =>
  new RegExp(`^${rule.replace(/^!/, "").replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`).test(path);
const workerFirst = (path: string) =>
  rules.some((rule) => !rule.startsWith("!") && matches(rule, path)) && !rules.some((rule) => rule.startsWith("!") && matches(rule, path));

test("every static file is served by the assets server, every other path by the worker first", () => {
  expect(SERVED_PATHS.length).toBeGreaterThan(0);
  for (const path of SERVED_PATHS) expect(workerFirst(path), path).toBe(false);
  const excluded = rules.filter((rule) => rule.startsWith("!")).map((rule) => rule.slice(1));
  expect(excluded.toSorted()).toEqual(SERVED_PATHS.toSorted());
  for (const path of ["/", "/v1/init", "/v1/appusers/x/messages", "/faye", "/docs", "/docs/", "/docs/other.js", "/v1/openapi.json", "/messenger", "/messenger-0.0.1.js"]) {
    expect(workerFirst(path), path).toBe(true);
  }
});
