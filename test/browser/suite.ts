// What every browser test file sets up: Chromium, a webhook target and the widget pages it opens,
// all closed after the file, with the requests refused off this machine in the log.
import { afterAll, beforeAll, type TestContext } from "vitest";
import { blockedReport, launchChromium, WidgetPage, type Chromium, type WidgetPageOptions } from "./browser.ts";
import { startWebhookTarget, type WebhookTarget } from "./webhook-target.ts";

export interface BrowserSuite {
  readonly chromium: Chromium;
  readonly target: WebhookTarget;
  /** A widget page, closed with the suite; on failure the test prints what the widget did. */
  open: (ctx: TestContext, options: WidgetPageOptions) => Promise<WidgetPage>;
}

/** Registers the file's beforeAll/afterAll; `label` heads its log line. */
export function browserSuite(label: string): BrowserSuite {
  let chromium: Chromium;
  let target: WebhookTarget;
  const pages: WidgetPage[] = [];
  beforeAll(async () => {
    [chromium, target] = await Promise.all([launchChromium(), startWebhookTarget()]);
  });
  afterAll(async () => {
    await Promise.allSettled(pages.map((p) => p.close()));
    await chromium?.close();
    await target?.close();
    console.log(`${label}: ${blockedReport()}`);
  });
  return {
    get chromium() {
      return chromium;
    },
    get target() {
      return target;
    },
    async open(ctx, options) {
      const widget = await WidgetPage.open(chromium.browser, options);
      pages.push(widget);
      ctx.onTestFailed(() => console.log(widget.diagnostics()));
      return widget;
    },
  };
}
