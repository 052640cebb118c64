// Copies the browser files the worker serves as static assets from node_modules into
// src/static/ (gitignored). wrangler.toml's `[build] command` runs it before `wrangler dev`,
// `wrangler deploy` and `wrangler types`; `npm test` runs it (`npm run build:assets`) before vitest.
//
// Files are written only when their content changes, and atomically: wrangler dev re-runs this on
// every change under its watch_dir, and several dev servers (tests, benchmarks) may run it at once.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
/** The `[assets] directory` of wrangler.toml. */
export const ASSETS_DIR = join(root, "src/static");

// Scalar's API reference: one self-contained script (its CSS is injected by the script itself and
// it loads no chunks). Its 20 MB source map is left out, and so is the comment that points at it.
const scalarDist = dirname(createRequire(import.meta.url).resolve("@scalar/api-reference"));

interface Asset {
  /** Path under ASSETS_DIR, which is also the URL path. */
  path: string;
  source: string;
  transform?: (text: string) => string;
}

const ASSETS: Asset[] = [
  {
    path: "docs/scalar.js",
    source: join(scalarDist, "browser/standalone.js"),
    transform: (text) => text.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n"),
  },
];

function writeIfChanged(path: string, content: Buffer): boolean {
  if (existsSync(path) && readFileSync(path).equals(content)) return false;
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, path);
  return true;
}

/** Files under dir, relative to it. */
function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

export function buildAssets(): { written: string[]; removed: string[] } {
  const written: string[] = [];
  for (const asset of ASSETS) {
    const raw = readFileSync(asset.source);
    const content = asset.transform ? Buffer.from(asset.transform(raw.toString("utf8"))) : raw;
    if (writeIfChanged(join(ASSETS_DIR, asset.path), content)) written.push(asset.path);
  }
  // Anything else there (an asset since renamed) would be deployed too: remove it.
  const wanted = new Set(ASSETS.map((asset) => asset.path));
  const removed = listFiles(ASSETS_DIR).filter((path) => !wanted.has(path) && !path.endsWith(".tmp"));
  for (const path of removed) rmSync(join(ASSETS_DIR, path));
  return { written, removed };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { written, removed } = buildAssets();
  const changes = [...written.map((p) => `wrote ${p}`), ...removed.map((p) => `removed ${p}`)];
  console.log(`build-assets: ${changes.length ? changes.join(", ") : "up to date"} (${relative(process.cwd(), ASSETS_DIR) || "."})`);
}
