// Headless Chromium (Debian's `chromium` package) driven by playwright-core, and a widget page in
// it with everything the tests look at recorded: the calls to the API, the browser console, page
// errors, WebSockets, and every request to a host off this machine (blocked).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { createServer } from "node:http";
import type { Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from "playwright-core";

/** Where screenshots go (gitignored). */
export const ARTIFACTS = fileURLToPath(new URL("./artifacts/", import.meta.url));

/**
 * The flags that work in this sandbox and on CI: no sandbox (root), no GPU, no QUIC, and none of
 * Chromium's own calls home (refused by the closed network, many at a time).
 */
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Debian's Chromium: `$CHROMIUM_PATH`, else `command -v chromium`. Never a downloaded browser. */
export function chromiumPath(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) return fromEnv;
  try {
    const found = execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
    if (found && existsSync(found)) return found;
  } catch {
    // Not on PATH.
  }
  throw new Error("Chromium not found: install Debian's package (apt-get update && apt-get install -y chromium) or set CHROMIUM_PATH");
}

/** Loopback hosts: the only ones a test page may reach. */
export function isLoopback(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Page errors that only say a remote asset was refused by this closed network: the widget plays
 * its notification sound from Smooch's CDN, and the audio element's play() then rejects.
 */
const OFFLINE_ASSET_ERRORS = [/^NotSupportedError: Failed to load because no supported source was found\.$/];

/** Requests the pages made to hosts off this machine (all refused): URL → times asked. */
export const blocked = new Map<string, number>();

/** The blocked requests as lines for the test log. */
export const blockedReport = () =>
  blocked.size === 0
    ? "no request was made to a host off this machine"
    : `requests to hosts off this machine, refused:\n${[...blocked].map(([url, n]) => `  ${url}${n > 1 ? ` (x${n})` : ""}`).join("\n")}`;

/**
 * A proxy that refuses everything: Chromium sends every request for a host off this machine to
 * it (loopback bypasses proxies), so nothing leaves the machine, IP literals and WebSockets
 * included, and no DNS lookup is made.
 *
 * Not playwright's route interception: while any route is set, playwright answers every CORS
 * preflight itself with 204 and Access-Control-Allow-* echoing the request, so the server's own
 * CORS answers would never be tested. Nor playwright's `proxy` option, which forces loopback
 * through the proxy too (`<-loopback>`).
 */
async function startRefusingProxy(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((request, response) => {
    response.writeHead(403, { "content-type": "text/plain" }).end(`${request.url}: no network in tests`);
  });
  server.on("connect", (_request, socket: Socket) => {
    socket.end("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export interface Chromium {
  browser: Browser;
  /** Closes the browser (all its processes) and the proxy. */
  close: () => Promise<void>;
}

/** Debian's Chromium, headless, with the sandbox's flags and the refusing proxy. */
export async function launchChromium(): Promise<Chromium> {
  const proxy = await startRefusingProxy();
  try {
    const browser = await chromium.launch({
      executablePath: chromiumPath(),
      headless: true,
      args: [...ARGS, `--proxy-server=${proxy.url}`],
      timeout: 30_000,
    });
    return {
      browser,
      close: async () => {
        await browser.close();
        await proxy.close();
      },
    };
  } catch (error) {
    await proxy.close();
    throw error;
  }
}

/** One call from the page to the API server, as the browser saw it. */
export interface ApiCall {
  /** Date.now() when the browser sent it. */
  at: number;
  method: string;
  /** Path and query, on the API server. */
  path: string;
  /** XHR, fetch, websocket, script (JSONP)... */
  type: string;
  status?: number;
  /** Chromium's reason when no response came (e.g. a CORS refusal is net::ERR_FAILED). */
  failure?: string;
  /** The request body, for POST/PUT. */
  body?: string;
  /** The request's headers as the page set them (not the browser's own). */
  headers?: Record<string, string>;
  /** The response body when the status is not 2xx (truncated). */
  answer?: string;
}

/** One Bayeux message between the widget's faye client and /faye, on any transport. */
export interface BayeuxRecord {
  at: number;
  direction: "out" | "in";
  /** websocket, callback-polling (JSONP GET), cross-origin-long-polling (POST), long-polling. */
  transport: string;
  message: any;
}

/** The Bayeux messages in a /faye request: JSONP's query, CORS long-polling's `message=` body, or JSON. */
export function bayeuxSent(url: URL, method: string, body: string | null): { transport: string; messages: any[] } | undefined {
  try {
    if (method === "GET" && url.searchParams.has("message")) {
      return { transport: "callback-polling", messages: [JSON.parse(url.searchParams.get("message")!)].flat() };
    }
    if (method === "POST" && body) {
      if (body.startsWith("message=")) {
        return { transport: "cross-origin-long-polling", messages: [JSON.parse(decodeURIComponent(body.slice(8).replace(/\+/g, " ")))].flat() };
      }
      return { transport: "long-polling", messages: [JSON.parse(body)].flat() };
    }
  } catch {
    // Not Bayeux.
  }
  return undefined;
}

/** The Bayeux messages in a /faye answer: a JSON array, or JSONP's `/**\/__jsonpN__([...]);`. */
export function bayeuxReceived(text: string): any[] | undefined {
  const jsonp = /^\s*(?:\/\*\*\/)?\s*[\w$.]+\(([\s\S]*)\);?\s*$/.exec(text);
  try {
    return [JSON.parse(jsonp ? jsonp[1] : text)].flat();
  } catch {
    return undefined;
  }
}

export interface WidgetPageOptions {
  /** Which widget: "3" (smooch 3.9.3), "2" (smooch 2.8.1), or "parley" (Parley Messenger, from the worker). */
  widget: string;
  /** The page's origin (the static server). */
  pageOrigin: string;
  /** The API server: Smooch.init's serviceUrl. */
  serviceUrl: string;
  appToken: string;
  userId?: string;
  jwt?: string;
  /** Remove window.WebSocket before any script runs, so faye falls back to HTTP long-polling. */
  noWebSocket?: boolean;
  /** Load the page without Smooch.open(). */
  closed?: boolean;
  /** The page's `prefers-color-scheme` (light by default). */
  colorScheme?: "light" | "dark";
  viewport?: { width: number; height: number };
  /** Ignore the page's Content-Security-Policy (to inject an audit script). */
  bypassCSP?: boolean;
}

/**
 * A browser context (its own localStorage: its own device) with a widget page in it. Reloading
 * the page keeps the device, so the visitor comes back as the same appUser.
 */
export class WidgetPage {
  readonly calls: ApiCall[] = [];
  readonly console: string[] = [];
  readonly pageErrors: string[] = [];
  readonly websockets: string[] = [];
  /** Every Bayeux message seen between the page and /faye, both ways. */
  readonly bayeux: BayeuxRecord[] = [];
  /** Chromium's CORS verdicts on failed calls, e.g. "HeaderDisallowedByPreflightResponse (x-smooch-sdk)". */
  readonly corsErrors: string[] = [];

  readonly context: BrowserContext;
  readonly page: Page;
  readonly options: WidgetPageOptions;

  private constructor(context: BrowserContext, page: Page, options: WidgetPageOptions) {
    this.context = context;
    this.page = page;
    this.options = options;
  }

  static async open(browser: Browser, options: WidgetPageOptions): Promise<WidgetPage> {
    const context = await browser.newContext({
      viewport: options.viewport ?? { width: 1024, height: 768 },
      colorScheme: options.colorScheme ?? "light",
      bypassCSP: options.bypassCSP ?? false,
    });
    const api = new URL(options.serviceUrl);
    if (options.noWebSocket) {
      await context.addInitScript(() => {
        delete (window as { WebSocket?: unknown }).WebSocket;
      });
    }
    const page = await context.newPage();
    const widget = new WidgetPage(context, page, options);
    const onApi = (url: string) => {
      const parsed = new URL(url);
      return parsed.origin === api.origin || (parsed.host === api.host && parsed.protocol.startsWith("ws")) ? parsed : undefined;
    };
    const byRequest = new Map<object, ApiCall>();
    page.on("request", (request) => {
      const raw = request.url();
      if (/^(https?|wss?):/.test(raw) && !isLoopback(new URL(raw))) blocked.set(raw, (blocked.get(raw) ?? 0) + 1);
      const url = onApi(raw);
      if (!url) return;
      const call: ApiCall = { at: Date.now(), method: request.method(), path: url.pathname + url.search, type: request.resourceType() };
      const body = request.postData();
      if (body) call.body = body;
      call.headers = request.headers();
      if (/^\/faye\/?$/.test(url.pathname)) {
        const sent = bayeuxSent(url, request.method(), request.postData());
        for (const message of sent?.messages ?? []) widget.bayeux.push({ at: call.at, direction: "out", transport: sent!.transport, message });
      }
      byRequest.set(request, call);
      widget.calls.push(call);
    });
    // CORS preflights never show as playwright requests: Chromium's own events (read only).
    const cdp = await context.newCDPSession(page);
    const preflights = new Map<string, ApiCall>();
    const apiRequests = new Set<string>();
    cdp.on("Network.requestWillBeSent", (event) => {
      if (onApi(event.request.url)) apiRequests.add(event.requestId);
      if (event.initiator.type !== "preflight" && event.type !== "Preflight") return;
      const url = onApi(event.request.url);
      if (!url) return;
      const call: ApiCall = { at: Date.now(), method: event.request.method, path: url.pathname + url.search, type: "preflight" };
      call.headers = Object.fromEntries(Object.entries(event.request.headers).map(([name, value]) => [name.toLowerCase(), String(value)]));
      preflights.set(event.requestId, call);
      widget.calls.push(call);
    });
    cdp.on("Network.responseReceived", (event) => {
      const call = preflights.get(event.requestId);
      if (call) call.status = event.response.status;
    });
    cdp.on("Network.loadingFailed", (event) => {
      const call = preflights.get(event.requestId);
      if (call) call.failure = event.errorText;
      const cors = event.corsErrorStatus;
      if (cors && apiRequests.has(event.requestId)) widget.corsErrors.push(`${cors.corsError}${cors.failedParameter ? ` (${cors.failedParameter})` : ""}`);
    });
    await cdp.send("Network.enable");
    page.on("response", (response) => {
      const call = byRequest.get(response.request());
      if (!call) return;
      call.status = response.status();
      if (/^\/faye\/?(\?|$)/.test(call.path) && call.status < 300) {
        const transport = call.method === "GET" ? "callback-polling" : "cross-origin-long-polling";
        response.text().then(
          (text) => {
            for (const message of bayeuxReceived(text) ?? []) widget.bayeux.push({ at: Date.now(), direction: "in", transport, message });
          },
          () => undefined,
        );
      }
      if (call.status >= 300) {
        response.text().then(
          (text) => (call.answer = text.slice(0, 300)),
          () => undefined,
        );
      }
    });
    page.on("requestfailed", (request) => {
      const call = byRequest.get(request);
      if (call) call.failure = request.failure()?.errorText ?? "failed";
    });
    page.on("websocket", (ws) => {
      widget.websockets.push(ws.url());
      if (!isLoopback(new URL(ws.url()))) blocked.set(ws.url(), (blocked.get(ws.url()) ?? 0) + 1);
      const url = onApi(ws.url());
      if (!url) return;
      const call: ApiCall = { at: Date.now(), method: "WS", path: url.pathname, type: "websocket" };
      widget.calls.push(call);
      const frame = (direction: "out" | "in") => (data: { payload: string | Buffer }) => {
        call.status = 101; // Frames flowed: the upgrade succeeded.
        for (const message of bayeuxReceived(String(data.payload)) ?? []) {
          widget.bayeux.push({ at: Date.now(), direction, transport: "websocket", message });
        }
      };
      ws.on("framesent", frame("out"));
      ws.on("framereceived", frame("in"));
      ws.on("socketerror", (error) => (call.failure = error));
      ws.on("close", () => {
        if (call.status === undefined) call.failure ??= "closed before any frame (see the console)";
      });
    });
    page.on("console", (message) => widget.console.push(`${message.type()}: ${message.text()}`));
    page.on("pageerror", (error) => {
      if (!OFFLINE_ASSET_ERRORS.some((known) => known.test(String(error)))) widget.pageErrors.push(error.stack || String(error));
    });
    await widget.load();
    return widget;
  }

  /** The page's URL: the static page with the init options in its query string. */
  get url(): string {
    const { widget, pageOrigin, serviceUrl, appToken, userId, jwt, closed } = this.options;
    const query = new URLSearchParams({ widget, appToken, serviceUrl });
    if (userId !== undefined) query.set("userId", userId);
    if (jwt !== undefined) query.set("jwt", jwt);
    if (closed) query.set("open", "0");
    return widget === "parley" ? `${pageOrigin}/parley?${query}` : `${pageOrigin}/?${query}`;
  }

  async load() {
    await this.page.goto(this.url, { waitUntil: "load" });
  }

  /** Reloads the page: the same device (localStorage), a new widget. */
  async reload() {
    await this.page.reload({ waitUntil: "load" });
  }

  /** What the page keeps on window.__parley (init state, appUser, widget events). */
  state(): Promise<any> {
    return this.page.evaluate(() => (window as any).__parley);
  }

  /**
   * Waits for Smooch.init to settle, within `timeoutMs`: its state, with the page's errors and
   * console in the message when it rejects or never settles.
   */
  async initSettled(timeoutMs = 15_000): Promise<any> {
    try {
      await this.page.waitForFunction(() => ["resolved", "rejected"].includes((window as any).__parley?.init), undefined, {
        timeout: timeoutMs,
        polling: 50,
      });
    } catch {
      throw new Error(`Smooch.init did not settle within ${timeoutMs} ms\n${this.diagnostics()}`);
    }
    return this.state();
  }

  /** Smooch.init resolved: the appUser it resolved to. */
  async initResolved(timeoutMs = 15_000): Promise<any> {
    const state = await this.initSettled(timeoutMs);
    if (state.init !== "resolved") throw new Error(`Smooch.init rejected: ${state.error}\n${this.diagnostics()}`);
    return state.appUser;
  }

  /**
   * Waits until /faye has confirmed a subscription to the conversation's channel
   * (`/v1/conversations/<id>`, not its /activity) at or after `since` (Date.now()): from then on
   * the widget hears the business.
   */
  async subscribed({ since = 0, timeoutMs = 10_000 } = {}): Promise<BayeuxRecord> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.bayeux.find(
        (r) =>
          r.direction === "in" &&
          r.at >= since &&
          r.message?.channel === "/meta/subscribe" &&
          r.message.successful === true &&
          [r.message.subscription].flat().some((s: unknown) => /^\/v1\/conversations\/[^/]+$/.test(String(s))),
      );
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no successful /meta/subscribe to the conversation within ${timeoutMs} ms\n${this.diagnostics()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** The Bayeux exchange, one message a line (meta channels and deliveries). */
  bayeuxLog(): string {
    const start = this.bayeux[0]?.at ?? 0;
    return this.bayeux
      .map((r) => `  +${r.at - start} ms ${r.direction === "out" ? "->" : "<-"} [${r.transport}] ${JSON.stringify(r.message).slice(0, 400)}`)
      .join("\n");
  }

  /** The message input (both lines: `input.message-input` in the widget's footer). */
  get input() {
    return this.page.locator("#sk-footer input.message-input");
  }

  /** Types into the widget's input and presses Enter, as a visitor does. */
  async type(text: string) {
    await this.input.waitFor({ state: "visible", timeout: 10_000 });
    await this.input.click();
    await this.input.pressSequentially(text, { delay: 5 });
    await this.input.press("Enter");
  }

  /** A text inside the widget's conversation. */
  text(text: string) {
    return this.page.locator("#sk-conversation").getByText(text, { exact: true });
  }

  /**
   * Starts watching for `text` to enter the widget's DOM (inside `shadowHost`'s shadow root when
   * given); the returned function waits until `shown` (by default the Smooch widget's text) is
   * visible and answers when (Date.now() in the page) it first appeared: latency without polling.
   */
  async watchFor(text: string, { shown = this.text(text), shadowHost }: { shown?: Locator; shadowHost?: string } = {}): Promise<(timeoutMs?: number) => Promise<number>> {
    await this.page.evaluate(
      ({ wanted, shadowHost }) => {
        const state = (window as any).__parley;
        state.seen ??= {};
        const holder = shadowHost ? document.querySelector(shadowHost)!.shadowRoot! : document.body;
        const check = () => {
          if (state.seen[wanted] === undefined && holder.textContent?.includes(wanted)) {
            state.seen[wanted] = Date.now();
            observer.disconnect();
          }
        };
        const observer = new MutationObserver(check);
        observer.observe(holder, { subtree: true, childList: true, characterData: true });
        check();
      },
      { wanted: text, shadowHost },
    );
    return async (timeoutMs = 10_000) => {
      await shown.waitFor({ state: "visible", timeout: timeoutMs });
      return this.page.evaluate((wanted) => (window as any).__parley.seen[wanted] as number, text);
    };
  }

  /** Saves a full-page screenshot under test/browser/artifacts/; its path. */
  async screenshot(name: string): Promise<string> {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, `${name}.png`);
    await this.page.screenshot({ path, fullPage: true });
    return path;
  }

  /** The calls to the API, one a line: "POST /v1/init -> 200". */
  callLog(): string {
    return this.calls
      .map((c) => `  ${c.method} ${c.path.length > 100 ? `${c.path.slice(0, 100)}…` : c.path}${c.type === "websocket" || c.type === "preflight" ? ` (${c.type})` : ""} -> ${c.status ?? c.failure ?? (c.type === "websocket" ? "opened" : "pending")}${c.answer ? ` ${c.answer}` : ""}`)
      .join("\n");
  }

  /** Everything worth reading when a widget test fails. */
  diagnostics(): string {
    const errors = this.pageErrors.length ? `page errors:\n${this.pageErrors.map((e) => `  ${e}`).join("\n")}\n` : "";
    const bayeux = this.bayeux.length ? `Bayeux:\n${this.bayeuxLog()}\n` : "";
    const cors = this.corsErrors.length ? `CORS errors:\n${this.corsErrors.map((e) => `  ${e}`).join("\n")}\n` : "";
    const console = this.console.length ? `console:\n${this.console.map((line) => `  ${line.slice(0, 500)}`).join("\n")}\n` : "";
    return `widget ${this.options.widget} at ${this.url}\ncalls to the API:\n${this.callLog() || "  none"}\n${bayeux}${errors}${cors}${console}`;
  }

  async close() {
    await this.context.close();
  }
}
