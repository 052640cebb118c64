// What each widget test file sets up: one Chromium, one webhook target, the pages it opened.
import { afterAll, beforeAll } from "vitest";
import { blockedReport, launchChromium, WidgetPage, type Chromium, type WidgetPageOptions } from "./browser.ts";
import { startWebhookTarget, type WebhookTarget } from "./webhook-target.ts";

export interface WidgetSuite {
  readonly target: WebhookTarget;
  /** Opens a widget page, closed with the suite. */
  open(options: WidgetPageOptions): Promise<WidgetPage>;
}

/** Starts the browser and the target before the file's tests and stops them after; `label` names its log. */
export function widgetSuite(label: string): WidgetSuite {
  let chromium: Chromium | undefined;
  let target: WebhookTarget | undefined;
  const pages: WidgetPage[] = [];
  beforeAll(async () => {
    [chromium, target] = await Promise.all([launchChromium(), startWebhookTarget()]);
  });
  afterAll(async () => {
    await Promise.allSettled(pages.map((page) => page.close()));
    await chromium?.close();
    await target?.close();
    console.log(`${label}: ${blockedReport()}`);
  });
  return {
    get target() {
      if (!target) throw new Error("the webhook target starts before the tests");
      return target;
    },
    async open(options) {
      if (!chromium) throw new Error("Chromium starts before the tests");
      const page = await WidgetPage.open(chromium.browser, options);
      pages.push(page);
      return page;
    },
  };
}
