// The Desk (GET /desk on the `wrangler dev` of the global setup, as its local agent: no Access on
// loopback) in a browser context of its own, with what the tests look at recorded: page errors,
// console errors, CSP violations and the calls to the Desk API.
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { expect } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { baseUrl } from "./api.ts";
import { ARTIFACTS } from "./browser.ts";

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export interface DeskOptions {
  /** The app picked when the page opens (the picker remembers the last one in localStorage). */
  appId: string;
  colorScheme?: "light" | "dark";
  viewport?: { width: number; height: number };
  /** To inject the axe-core script. */
  bypassCSP?: boolean;
}

export class DeskPage {
  readonly pageErrors: string[] = [];
  readonly consoleErrors: string[] = [];
  /** Desk API calls: "POST /desk/api/... -> 200". */
  readonly calls: string[] = [];

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
  ) {}

  static async open(browser: Browser, { appId, colorScheme = "light", viewport = { width: 1280, height: 800 }, bypassCSP = false }: DeskOptions) {
    const context = await browser.newContext({ viewport, colorScheme, bypassCSP });
    await context.addInitScript((appId) => {
      localStorage.setItem("parley.desk.app", appId);
      const state = ((window as any).__desk = { csp: [] as string[], notifications: [] as unknown[] });
      document.addEventListener("securitypolicyviolation", (event) => state.csp.push(`${event.violatedDirective} ${event.blockedURI}`));
      // Records the notifications the page shows (headless Chromium shows none).
      const Real = window.Notification;
      if (Real) {
        const Recording = function (this: unknown, title: string, options?: NotificationOptions) {
          state.notifications.push({ title, body: options?.body, tag: options?.tag });
          return new Real(title, options);
        } as unknown as typeof Notification;
        Object.defineProperty(Recording, "permission", { get: () => Real.permission });
        Recording.requestPermission = Real.requestPermission.bind(Real);
        window.Notification = Recording;
      }
    }, appId);
    const page = await context.newPage();
    const desk = new DeskPage(context, page);
    page.on("pageerror", (error) => desk.pageErrors.push(String(error)));
    page.on("console", (message) => message.type() === "error" && desk.consoleErrors.push(message.text()));
    page.on("response", (response) => {
      const url = new URL(response.url());
      if (url.pathname.startsWith("/desk/api/")) desk.calls.push(`${response.request().method()} ${url.pathname}${url.search} -> ${response.status()}`);
    });
    await page.goto(`${baseUrl}/desk`);
    await page.getByRole("combobox", { name: "App" }).waitFor();
    await expect.poll(() => page.getByRole("combobox", { name: "App" }).inputValue()).toBe(appId);
    return desk;
  }

  get list() {
    return this.page.getByRole("list", { name: /Conversations|Search results/ });
  }
  /** The list's button for a user, by the name it shows. */
  entry(name: string) {
    return this.list.getByRole("button", { name: new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`) });
  }
  get log() {
    return this.page.getByRole("log", { name: "Messages" });
  }
  get composer() {
    return this.page.getByRole("textbox", { name: "Reply" });
  }

  /** Runs axe-core on the page: its serious and critical violations, described, and every violation's id. */
  async axe(): Promise<{ serious: string[]; all: string }> {
    await this.page.evaluate(AXE_SOURCE);
    const results = await this.page.evaluate(async () => (window as any).axe.run(document, { resultTypes: ["violations"] }));
    const serious = results.violations
      .filter((v: { impact: string }) => v.impact === "serious" || v.impact === "critical")
      .map((v: { id: string; help: string; nodes: { target: unknown }[] }) => `${v.id}: ${v.help} (${v.nodes.map((n) => JSON.stringify(n.target)).join(", ")})`);
    return { serious, all: results.violations.map((v: { id: string; impact: string }) => `${v.id} (${v.impact})`).join(", ") || "none" };
  }

  /** No page error, no console error, no CSP violation. */
  async expectClean() {
    expect(this.pageErrors).toEqual([]);
    expect(this.consoleErrors).toEqual([]);
    expect(await this.page.evaluate(() => (window as any).__desk.csp)).toEqual([]);
  }

  /** Saves a screenshot under test/browser/artifacts/; its path. */
  async screenshot(name: string): Promise<string> {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, `${name}.png`);
    await this.page.screenshot({ path });
    return path;
  }

  diagnostics() {
    return `desk calls:\n${this.calls.map((c) => `  ${c}`).join("\n")}\npage errors: ${this.pageErrors.join("; ") || "none"}\nconsole errors: ${this.consoleErrors.join("; ") || "none"}`;
  }

  async close() {
    await this.context.close();
  }
}
