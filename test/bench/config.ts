// A copy of wrangler.toml for the benchmark: same worker and bindings, with rate limits that one
// load generator on one address cannot reach (production's would turn most requests into 429s).
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const BENCH_RATE_LIMIT = 1_000_000;

/** Writes the copy into `dir` and returns its path; `main` and `migrations_dir` become absolute. */
export function writeBenchConfig(dir: string): string {
  const original = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  let limits = 0;
  const text = original
    .replace(/^main\s*=\s*"([^"]+)"/m, (_, path: string) => `main = ${JSON.stringify(resolve(ROOT, path))}`)
    .replace(
      /^migrations_dir\s*=\s*"([^"]+)"/m,
      (_, path: string) => `migrations_dir = ${JSON.stringify(resolve(ROOT, path))}`,
    )
    .replace(/simple\s*=\s*\{\s*limit\s*=\s*\d+/g, (match) => {
      limits++;
      return match.replace(/\d+$/, String(BENCH_RATE_LIMIT));
    });
  const absolute = [/^main = "\//m, /^migrations_dir = "\//m].every((pattern) => pattern.test(text));
  if (limits !== 2 || !absolute) {
    throw new Error("wrangler.toml no longer has the shape the benchmark rewrites (main, migrations_dir, two [[ratelimits]] limits)");
  }
  const path = join(dir, "wrangler.bench.toml");
  writeFileSync(path, text);
  return path;
}
