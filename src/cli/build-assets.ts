// Builds the browser files the worker serves into src/static/ (gitignored), as modules of its own
// bundle: the Parley Messenger and the Desk's page script, bundled from src/browser/messenger/ and
// src/browser/desk/ by esbuild, as text modules (.txt), and Scalar's script from node_modules,
// gzipped, as a data module (.bin: wrangler's default rules give .txt and .bin those types).
// wrangler.toml's `[build] command` runs it before `wrangler dev`, `wrangler deploy` and
// `wrangler types`; `npm test` runs it (`npm run build:assets`) before vitest.
//
// Modules rather than Workers Static Assets: a worker with assets has every request pass through
// the asset router first (under wrangler dev another worker's request on the same thread, a tenth
// to a quarter of an API read's cost), for files that are few and small once gzipped.
//
// Files are written only when their content changes, and atomically: wrangler dev re-runs this on
// every change under its watch_dir, and several dev servers (tests, benchmarks) may run it at once.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { buildSync } from "esbuild";

const root = fileURLToPath(new URL("../..", import.meta.url));
/** Where the modules are written; src/http/static-files.ts imports them. */
const ASSETS_DIR = join(root, "src/static");

// Scalar's API reference: one self-contained script (its CSS is injected by the script itself and
// it loads no chunks). Its 20 MB source map is left out, and so is the comment that points at it.
const scalarDist = dirname(createRequire(import.meta.url).resolve("@scalar/api-reference"));

interface Asset {
  /** Path under ASSETS_DIR. */
  path: string;
  content: () => Buffer;
}

/** The messenger's version (src/browser/messenger/version.ts): the name of its immutable, versioned copy. */
export const MESSENGER_VERSION = /VERSION = "([^"]+)"/.exec(readFileSync(join(root, "src/browser/messenger/version.ts"), "utf8"))![1];

/**
 * A browser entry as one minified script (an IIFE), for browsers of the last few years. The same
 * source always gives the same bytes, so the messenger's SRI hash is stable.
 */
function bundleBrowser(entry: string): Buffer {
  const result = buildSync({
    entryPoints: [join(root, entry)],
    bundle: true,
    format: "iife",
    minify: true,
    target: ["es2020", "chrome90", "firefox90", "safari15"],
    legalComments: "none",
    charset: "utf8",
    write: false,
  });
  return Buffer.from(result.outputFiles[0].contents);
}

/** The messenger: sets window.Parley. */
export const bundleMessenger = () => bundleBrowser("src/browser/messenger/index.ts");

/** The Desk's page script (src/browser/desk/), served at /desk/desk.js behind the Desk's Access check. */
export const bundleDesk = () => bundleBrowser("src/browser/desk/index.ts");

/** The subresource-integrity value of a script: what the README's script tag carries. */
export const integrity = (content: Buffer) => `sha384-${createHash("sha384").update(content).digest("base64")}`;

let messenger: Buffer | undefined;
const messengerBundle = () => (messenger ??= bundleMessenger());

const ASSETS: Asset[] = [
  {
    // 4.9 MB as text, 1.4 MB gzipped: the worker sends these bytes as they are (Content-Encoding: gzip).
    path: "scalar.bin",
    content: () =>
      gzipSync(readFileSync(join(scalarDist, "browser/standalone.js"), "utf8").replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n"), { level: 9 }),
  },
  { path: "messenger.txt", content: messengerBundle },
  { path: "desk.txt", content: bundleDesk },
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
    if (writeIfChanged(join(ASSETS_DIR, asset.path), asset.content())) written.push(asset.path);
  }
  // Anything else there is a file since renamed: remove it.
  const wanted = new Set(ASSETS.map((asset) => asset.path));
  const removed = listFiles(ASSETS_DIR).filter((path) => !wanted.has(path) && !path.endsWith(".tmp"));
  for (const path of removed) rmSync(join(ASSETS_DIR, path));
  return { written, removed };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { written, removed } = buildAssets();
  const changes = [...written.map((p) => `wrote ${p}`), ...removed.map((p) => `removed ${p}`)];
  console.log(`build-assets: ${changes.length ? changes.join(", ") : "up to date"} (${relative(process.cwd(), ASSETS_DIR) || "."})`);
  console.log(`build-assets: messenger-${MESSENGER_VERSION}.js integrity="${integrity(messengerBundle())}"`);
}
