import { spawn, type SpawnOptions } from "node:child_process";

/** Keeps wrangler off the network: no update check, no Request.cf fetch, no metrics. */
export const offlineEnv = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
};

export function wrangler(args: string[], options: SpawnOptions = {}) {
  return spawn("wrangler", args, { stdio: "inherit", env: offlineEnv, ...options });
}

/** Runs wrangler to completion; rejects on a non-zero exit, with its output when it was piped. */
function runWrangler(args: string[], options: SpawnOptions = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = wrangler(args, options);
    let output = "";
    for (const stream of [child.stdout, child.stderr]) stream?.on("data", (chunk: Buffer) => (output += chunk));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`wrangler ${args.join(" ")} exited ${code}\n${output}`))));
  });
}

/** Applies the D1 migrations to local state (CI=true answers wrangler's confirmation). */
export const migrateLocal = (options: SpawnOptions = {}) =>
  runWrangler(["d1", "migrations", "apply", "DB", "--local"], { ...options, env: { ...offlineEnv, CI: "true" } });
