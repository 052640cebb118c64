// A copy of wrangler.toml for the benchmark: same worker and bindings, with rate limits that one
// load generator on one address cannot reach (production's would turn most requests into 429s).
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const BENCH_RATE_LIMIT = 1_000_000;

/** The settings that name a path relative to wrangler.toml, and the build command's script. */
const PATHS = /^(main|migrations_dir|directory|watch_dir)\s*=\s*"([^"]+)"/gm;
const BUILD_SCRIPT = /^(command\s*=\s*"node )([^"\s]+)/m;

/** Writes the copy into `dir` and returns its path; every path in it becomes absolute. */
export function writeBenchConfig(dir: string): string {
  const original = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  let limits = 0;
  const text = original
    .replace(PATHS, (_, name: string, path: string) => `${name} = ${JSON.stringify(resolve(ROOT, path))}`)
    .replace(BUILD_SCRIPT, (_, command: string, path: string) => `${command}${resolve(ROOT, path)}`)
    .replace(/simple\s*=\s*\{\s*limit\s*=\s*\d+/g, (match) => {
      limits++;
      return match.replace(/\d+$/, String(BENCH_RATE_LIMIT));
    });
  const absolute = [/^main = "\//m, /^migrations_dir = "\//m].every((pattern) => pattern.test(text));
  if (limits !== 4 || !absolute) {
    throw new Error("wrangler.toml no longer has the shape the benchmark rewrites (main, migrations_dir, four [[ratelimits]] limits)");
  }
  const path = join(dir, "wrangler.bench.toml");
  writeFileSync(path, text);
  return path;
}
