// A copy of wrangler.toml for the benchmark: same worker and bindings, with rate limits that one
// load generator on one address cannot reach (production's would turn most requests into 429s).
import { writeConfigCopy } from "../support/config-copy.ts";

export { ROOT } from "../support/config-copy.ts";
export const BENCH_RATE_LIMIT = 1_000_000;

/** Writes the copy into `dir` and returns its path. */
export function writeBenchConfig(dir: string): string {
  return writeConfigCopy(dir, "wrangler.bench.toml", (original) => {
    let limits = 0;
    const text = original.replace(/simple\s*=\s*\{\s*limit\s*=\s*\d+/g, (match) => {
      limits++;
      return match.replace(/\d+$/, String(BENCH_RATE_LIMIT));
    });
    if (limits !== 4) throw new Error("wrangler.toml no longer has the four [[ratelimits]] limits the benchmark rewrites");
    return text;
  });
}
