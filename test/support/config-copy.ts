// A copy of wrangler.toml with some settings changed, for the suites that run `wrangler dev` with
// other limits than production's (benchmark: rate limits; faults: push retries). Every path in the
// copy is made absolute, so it can live in a temporary directory.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The settings that name a path relative to wrangler.toml, and the build command's script. */
const PATHS = /^(main|migrations_dir|directory|watch_dir)\s*=\s*"([^"]+)"/gm;
const BUILD_SCRIPT = /^(command\s*=\s*"node )([^"\s]+)/m;

/** Writes `edit(wrangler.toml)` into `dir/name` with every path absolute, and returns its path. */
export function writeConfigCopy(dir: string, name: string, edit: (text: string) => string): string {
  const text = edit(readFileSync(join(ROOT, "wrangler.toml"), "utf8"))
    .replace(PATHS, (_, setting: string, path: string) => `${setting} = ${JSON.stringify(resolve(ROOT, path))}`)
    .replace(BUILD_SCRIPT, (_, command: string, path: string) => `${command}${resolve(ROOT, path)}`);
  if (![/^main = "\//m, /^migrations_dir = "\//m].every((pattern) => pattern.test(text))) {
    throw new Error("wrangler.toml no longer has the shape the copy rewrites (main, migrations_dir)");
  }
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
