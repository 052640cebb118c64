// The browser harness itself, independent of the server's realtime features: the bundles, the
// page on its own origin, Chromium with no way off the machine and no leftover processes, the
// webhook target, and what the widget sends first.
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectStatus, httpSend } from "../support/http.ts";
import { initUser } from "../support/users.ts";
import { baseUrl, createWebhook, newApp, pageOrigin } from "./api.ts";
import { blocked, blockedReport, launchChromium, WidgetPage, type Chromium } from "./browser.ts";
import { bundleWidgets, LINES } from "./bundle.ts";
import { startWebhookTarget, type WebhookTarget } from "./webhook-target.ts";

let chromium: Chromium;
let target: WebhookTarget;

beforeAll(async () => {
  [chromium, target] = await Promise.all([launchChromium(), startWebhookTarget()]);
});

afterAll(async () => {
  await chromium?.close();
  await target?.close();
  console.log(`harness: ${blockedReport()}`);
});

/** Process ids of `pid`'s descendants with their command names, from /proc. */
function descendants(pid: number): { pid: number; comm: string }[] {
  const children = new Map<number, { pid: number; comm: string }[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), { pid: Number(entry), comm }]);
    } catch {
      // Gone meanwhile.
    }
  }
  const found: { pid: number; comm: string }[] = [];
  const walk = (parent: number) => {
    for (const child of children.get(parent) ?? []) {
      found.push(child);
      walk(child.pid);
    }
  };
  walk(pid);
  return found;
}

describe("the browser harness", () => {
  it("bundles each widget line with its own React into a temporary directory outside the repository", async () => {
    const { dir, bundles, remove } = await bundleWidgets();
    try {
      expect(relative(tmpdir(), dir).startsWith("..")).toBe(false);
      expect(relative(process.cwd(), dir).startsWith("..")).toBe(true);
      expect(bundles.map((b) => [b.line.version, b.line.react])).toEqual([
        [LINES.v3.version, "react"],
        [LINES.v2.version, "react-0.14"],
      ]);
      for (const bundle of bundles) {
        const script = readFileSync(bundle.file, "utf8");
        expect(script).toContain(`"${bundle.line.version}"`);
        // React 0.14 and 15 announce themselves in their sources.
        expect(script).toContain(bundle.line.name === "2" ? '"0.14.10"' : '"15.7.0"');
        expect(script).not.toContain(bundle.line.name === "2" ? '"15.7.0"' : '"0.14.10"');
      }
    } finally {
      remove();
    }
  });

  it("serves the page and both bundles on another loopback origin than the API", async () => {
    expect(new URL(pageOrigin).hostname).toBe("127.0.0.1");
    expect(new URL(pageOrigin).origin).not.toBe(new URL(baseUrl).origin);
    const page = await fetch(`${pageOrigin}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    for (const name of ["smooch-3.js", "smooch-2.js"]) {
      const script = await fetch(`${pageOrigin}/${name}`);
      expect(script.status).toBe(200);
      expect(script.headers.get("content-type")).toMatch(/^text\/javascript/);
      await script.arrayBuffer();
    }
    expect((await fetch(`${pageOrigin}/../package.json`)).status).toBe(404);
  });

  it("Chromium reaches loopback only: every other host is refused and listed, without a network", async () => {
    const context = await chromium.browser.newContext();
    try {
      const page = await context.newPage();
      page.on("request", (request) => {
        const url = new URL(request.url());
        if (url.hostname !== "127.0.0.1") blocked.set(request.url(), (blocked.get(request.url()) ?? 0) + 1);
      });
      await page.goto(`${pageOrigin}/?widget=none&open=0`);
      const outcome = await page.evaluate(async () => {
        const attempt = (url: string) =>
          fetch(url, { mode: "no-cors" }).then(
            (r) => `answered ${r.type}`,
            (e: Error) => `refused: ${e.message}`,
          );
        return {
          https: await attempt("https://cdn.smooch.io/harness-probe.png"),
          ip: await attempt("https://192.0.2.1/harness-probe"),
        };
      });
      expect(outcome.https).toMatch(/^refused/);
      expect(outcome.ip).toMatch(/^refused/);
      expect([...blocked.keys()]).toEqual(expect.arrayContaining(["https://cdn.smooch.io/harness-probe.png", "https://192.0.2.1/harness-probe"]));
    } finally {
      await context.close();
    }
  });

  it("closing the browser leaves no Chromium process behind", async () => {
    const before = new Set(descendants(process.pid).map((p) => p.pid));
    const extra = await launchChromium();
    const started = descendants(process.pid).filter((p) => !before.has(p.pid));
    expect(started.some((p) => /chrom/i.test(p.comm))).toBe(true);
    await extra.close();
    const left = descendants(process.pid).filter((p) => started.some((s) => s.pid === p.pid));
    expect(left).toEqual([]);
  });

  it("the webhook target receives the server's deliveries", async () => {
    const app = await newApp("browser harness webhook");
    const hook = target.hook("harness");
    await createWebhook(app, hook.url, ["message:appUser"]);
    const send = httpSend(baseUrl);
    const user = await initUser(send, app.token, { id: "harness-device", platform: "web" }, "harness-visitor");
    await expectStatus(send, "POST", "/v1/appusers/harness-visitor/messages", app.token, 201, { role: "appUser", text: "through the queue" });
    const delivery = await hook.waitFor("message:appUser", (b) => b.messages?.[0]?.text === "through the queue");
    expect(delivery.body.appUser._id).toBe(user._id);
  });

  for (const line of [LINES.v3, LINES.v2]) {
    it(`smooch ${line.version} loads in Chromium and makes its first call, POST /v1/init, from the page's origin`, async () => {
      // No app needed: the call is checked as the browser sent it, whatever the answer.
      const widget = await WidgetPage.open(chromium.browser, { widget: line.name, pageOrigin, serviceUrl: baseUrl, appToken: "harness-token" });
      try {
        expect(await widget.page.evaluate(() => (window as any).Smooch.VERSION)).toBe(line.version);
        await widget.initSettled();
        // Cross-origin, with headers that are not CORS-safelisted: preflighted from the page's origin.
        const findPreflight = () => widget.calls.find((c) => c.type === "preflight" && c.path === "/v1/init");
        await expect.poll(findPreflight).toBeDefined();
        const preflight = findPreflight();
        expect(preflight?.headers).toMatchObject({
          origin: pageOrigin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "app-token,content-type,x-smooch-sdk",
        });
        const findInit = () => widget.calls.find((c) => c.method === "POST" && c.path === "/v1/init");
        await expect.poll(findInit).toBeDefined();
        const init = findInit();
        expect(init?.headers).toMatchObject({
          "app-token": "harness-token",
          "x-smooch-sdk": `web/${line.version}`,
          "content-type": "application/json",
          accept: "application/json",
        });
        const body = JSON.parse(init!.body!);
        expect(body).toMatchObject({ userId: "", device: { platform: "web", id: expect.stringMatching(/^[0-9a-f]{32}$/) } });
        expect(body.device.info).toMatchObject({ sdkVersion: line.version, currentUrl: widget.url });
      } finally {
        await widget.close();
      }
    });
  }
});
