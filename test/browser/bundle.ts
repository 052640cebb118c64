// Bundles the official Web Messenger (the `smooch` npm package, CommonJS sources) into one browser
// script per widget line, into a temporary directory, on every run.
//
// Licence: the widget is under Smooch's terms of service, not an open-source licence. It is a
// devDependency for these tests only: its bundle is built at test time outside the repository and
// is never committed, put under src/ or served by the worker.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface WidgetLine {
  /** Used in file names and test titles: "3" or "2". */
  name: string;
  /** The package (or npm alias) that holds this line of the widget. */
  pkg: string;
  /** The version its package.json must have: a check that the alias installed what we think. */
  version: string;
  /** The React and react-dom packages this line is built with (its own, never the other's). */
  react: string;
  reactDom: string;
}

/**
 * smooch 3.9.3 with React 15.7.0 (the plain `react`/`react-dom` devDependencies), and smooch 2.8.1
 * with React 0.14.10 (the npm aliases `react-0.14`/`react-dom-0.14`). package.json's `overrides`
 * let npm accept 2.8.1's React 0.14 peer range at install time; here esbuild's `alias` sends every
 * `react`, `react/lib/...`, `react-dom` import in the 2.x bundle (from the widget and from its
 * dependencies alike, e.g. react-addons-css-transition-group 0.14.7 requiring
 * `react/lib/ReactCSSTransitionGroup`) to the 0.14 copies.
 */
export const LINES = {
  v3: { name: "3", pkg: "smooch", version: "3.9.3", react: "react", reactDom: "react-dom" },
  v2: { name: "2", pkg: "smooch-2", version: "2.8.1", react: "react-0.14", reactDom: "react-dom-0.14" },
} as const satisfies Record<string, WidgetLine>;

export interface Bundle {
  line: WidgetLine;
  /** The script's absolute path. */
  file: string;
  /** Its name in the bundle directory (what the static server serves it as). */
  name: string;
  bytes: number;
  ms: number;
}

/** Which installed package a bundled input file belongs to ("react-0.14", "smooch/node_modules/faye"...). */
function packageOf(input: string): string | undefined {
  const parts = input.split(/[\\/]/);
  const at = parts.lastIndexOf("node_modules");
  if (at < 0) return undefined;
  const name = parts[at + 1]?.startsWith("@") ? `${parts[at + 1]}/${parts[at + 2]}` : parts[at + 1];
  return [...parts.slice(0, at + 1), name].join("/");
}

/** Builds one line's script into `dir`; fails if its bundle picked up the other line's React. */
/** Resolves packages as the repository root sees them. */
const fromRoot = createRequire(join(ROOT, "package.json"));

export async function bundleWidget(line: WidgetLine, dir: string): Promise<Bundle> {
  const started = performance.now();
  const name = `smooch-${line.name}.js`;
  const file = join(dir, name);
  const result = await build({
    absWorkingDir: ROOT,
    stdin: {
      // The entry a page of the day had: the package's main (an instance of Smooch) on window.
      contents: [
        `var Smooch = require(${JSON.stringify(line.pkg)});`,
        `if (Smooch.VERSION !== ${JSON.stringify(line.version)}) throw new Error("expected smooch ${line.version}, got " + Smooch.VERSION);`,
        "window.Smooch = Smooch;",
      ].join("\n"),
      resolveDir: ROOT,
      sourcefile: `smooch-${line.name}-entry.js`,
      loader: "js",
    },
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2017",
    outfile: file,
    define: { "process.env.NODE_ENV": '"production"', global: "window" },
    alias: {
      // urljoin requires Node's path and url: path-browserify, and the `url` package (resolved
      // from node_modules as it is, since the browser platform has no built-ins).
      path: "path-browserify",
      // faye's main is its Node client (faye-websocket, csprng...); its browser build is the one
      // the widget's own webpack build shipped: the widget's own faye, not the suites' newer one.
      faye: createRequire(fromRoot.resolve(`${line.pkg}/package.json`)).resolve("faye/browser/faye-browser.js"),
      react: line.react,
      "react-dom": line.reactDom,
    },
    metafile: true,
    logLevel: "silent",
    legalComments: "none",
  });
  for (const warning of result.warnings) {
    // Nothing is expected; show what esbuild noticed rather than hide it.
    console.warn(`bundle ${name}: ${warning.text}${warning.location ? ` (${warning.location.file}:${warning.location.line})` : ""}`);
  }
  const packages = new Set(
    Object.keys(result.metafile.inputs)
      .map(packageOf)
      .filter((p): p is string => p !== undefined),
  );
  const reacts = [...packages].filter((p) => /(^|\/)react(-dom)?(-0\.14)?$/.test(p));
  const expected = [`node_modules/${line.react}`, `node_modules/${line.reactDom}`];
  const stray = reacts.filter((p) => !expected.includes(p));
  if (stray.length > 0 || !expected.every((p) => reacts.includes(p))) {
    throw new Error(`bundle ${name}: expected React from ${expected.join(" and ")}, found ${reacts.join(", ")}`);
  }
  const bytes = result.metafile.outputs[relative(ROOT, file).split(sep).join("/")]?.bytes ?? 0;
  return { line, file, name, bytes, ms: Math.round(performance.now() - started) };
}

/** A fresh temporary directory with a script for each line, and a function that removes it. */
export async function bundleWidgets(lines: WidgetLine[] = Object.values(LINES)) {
  const dir = mkdtempSync(join(tmpdir(), "parley-widget-"));
  try {
    const bundles = await Promise.all(lines.map((line) => bundleWidget(line, dir)));
    return { dir, bundles, remove: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
