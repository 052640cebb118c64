// Builds the browser files the worker serves as static assets into src/static/ (gitignored): the
// Parley Messenger and the Desk's page script, bundled from src/browser/messenger/ and
// src/browser/desk/ by esbuild, and Scalar's script from node_modules. wrangler.toml's `[build] command` runs it before `wrangler dev`,
// `wrangler deploy` and `wrangler types`; `npm test` runs it (`npm run build:assets`) before vitest.
//
// Files are written only when their content changes, and atomically: wrangler dev re-runs this on
// every change under its watch_dir, and several dev servers (tests, benchmarks) may run it at once.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";

const root = fileURLToPath(new URL("../..", import.meta.url));
/** The `[assets] directory` of wrangler.toml. */
export const ASSETS_DIR = join(root, "src/static");

// Scalar's API reference: one self-contained script (its CSS is injected by the script itself and
// it loads no chunks). Its 20 MB source map is left out, and so is the comment that points at it.
const scalarDist = dirname(createRequire(import.meta.url).resolve("@scalar/api-reference"));

interface Asset {
  /** Path under ASSETS_DIR, which is also the URL path. */
  path: string;
  content: () => Buffer;
  /** Served by the worker (behind its own checks) rather than straight by the assets server. */
  viaWorker?: boolean;
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

/** The Desk's page script (src/browser/desk/), served at DESK_SCRIPT behind the Desk's Access check. */
export const bundleDesk = () => bundleBrowser("src/browser/desk/index.ts");
export const DESK_SCRIPT = "desk/desk.js";

// Both copies of the messenger may be fetched by any page (CORS, for the integrity check of a
// cross-origin <script crossorigin>); the versioned one never changes, /messenger.js follows deploys.
const HEADERS = `/messenger.js
  Access-Control-Allow-Origin: *
  Cache-Control: public, max-age=300
/messenger-${MESSENGER_VERSION}.js
  Access-Control-Allow-Origin: *
  Cache-Control: public, max-age=31536000, immutable
`;

/** The subresource-integrity value of a script: what the README's script tag carries. */
export const integrity = (content: Buffer) => `sha384-${createHash("sha384").update(content).digest("base64")}`;

let messenger: Buffer | undefined;
const messengerBundle = () => (messenger ??= bundleMessenger());

const ASSETS: Asset[] = [
  {
    path: "docs/scalar.js",
    content: () =>
      Buffer.from(readFileSync(join(scalarDist, "browser/standalone.js"), "utf8").replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n")),
  },
  { path: "messenger.js", content: messengerBundle },
  { path: `messenger-${MESSENGER_VERSION}.js`, content: messengerBundle },
  { path: DESK_SCRIPT, content: bundleDesk, viaWorker: true },
  // Read by the assets server (wrangler dev and Cloudflare alike), never served.
  { path: "_headers", content: () => Buffer.from(HEADERS) },
];

/** The URL paths of the files the assets server serves by itself (the worker serves the others from it). */
export const SERVED_PATHS = ASSETS.filter((asset) => asset.path !== "_headers" && !asset.viaWorker).map((asset) => `/${asset.path}`);

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
  console.log(`build-assets: messenger-${MESSENGER_VERSION}.js integrity="${integrity(messengerBundle())}"`);
}
