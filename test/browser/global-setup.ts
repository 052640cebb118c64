// For the browser suite: `wrangler dev` on fresh local state, the widget bundles (built into a
// temporary directory on every run, never committed) and the static server for the page that
// embeds them, on another loopback port. All stopped and removed afterwards.
import type { TestProject } from "vitest/node";
import { startDevServer } from "../support/dev-server.ts";
import { chromiumPath } from "./browser.ts";
import { bundleWidgets } from "./bundle.ts";
import { startPageServer } from "./page-server.ts";

declare module "vitest" {
  interface ProvidedContext {
    baseUrl: string;
    accountKeyId: string;
    accountSecret: string;
    pageOrigin: string;
    /** The widget lines bundled for this run, by name ("3", "2"). */
    widgets: string[];
  }
}

export default async function setup(project: TestProject) {
  chromiumPath(); // Fails early, with how to install it, when there is no Chromium.
  const widgets = await bundleWidgets();
  for (const bundle of widgets.bundles) {
    console.log(`browser: bundled smooch ${bundle.line.version} with ${bundle.line.react} in ${bundle.ms} ms (${Math.round(bundle.bytes / 1024)} KiB) into ${widgets.dir}`);
  }
  let page;
  let server;
  try {
    page = await startPageServer(widgets.dir);
    // The webhook targets the tests start are on loopback; short retry delays as in the e2e suite.
    server = await startDevServer({
      vars: { WEBHOOK_RETRY_BASE_SECONDS: "1", WEBHOOK_ALLOW_PRIVATE_TARGETS: "true" },
    });
  } catch (error) {
    await page?.close();
    widgets.remove();
    throw error;
  }
  console.log(`browser: the page at ${page.origin}, wrangler dev at ${server.baseUrl}`);
  project.provide("baseUrl", server.baseUrl);
  project.provide("accountKeyId", server.account.keyId);
  project.provide("accountSecret", server.account.secret);
  project.provide("pageOrigin", page.origin);
  project.provide("widgets", widgets.bundles.map((b) => b.line.name));
  return async () => {
    await page.close();
    await server.stop();
    widgets.remove();
  };
}
