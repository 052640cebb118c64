// Parley Messenger (src/browser/messenger/, served by the worker as /messenger.js) on a page of another
// origin under a strict Content-Security-Policy, against `wrangler dev`: what a visitor and a
// business do, keyboard-only use, an accessibility audit, and screenshots in light and dark.
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { describe, expect, it, type TestContext } from "vitest";
import type { App } from "../support/apps.ts";
import { baseUrl, businessSays, businessTyping, conversationOf, createWebhook, newApp, pageOrigin } from "./api.ts";
import { ARTIFACTS, type WidgetPage, type WidgetPageOptions } from "./browser.ts";
import { browserSuite } from "./suite.ts";

/** What a business reply may take from the REST call to the visitor's screen. */
const REALTIME_BUDGET_MS = 1_000;
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
/** A 1×1 PNG, for the upload. */
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");

const suite = browserSuite("parley messenger");

/** The messenger on its page, found through its (open) shadow root. */
class Visitor {
  constructor(readonly widget: WidgetPage) {}

  get page() {
    return this.widget.page;
  }
  get host() {
    return this.page.locator("parley-messenger");
  }
  get launcher() {
    return this.host.locator("button.launcher");
  }
  get badge() {
    return this.host.locator(".badge");
  }
  get panel() {
    return this.host.getByRole("dialog");
  }
  get input() {
    return this.host.getByRole("textbox", { name: "Type a message…" });
  }
  get log() {
    return this.host.getByRole("log");
  }
  text(text: string) {
    return this.log.getByText(text, { exact: true });
  }

  async type(text: string) {
    await this.input.click();
    await this.input.fill(text);
    await this.input.press("Enter");
  }

  /** Posts as the business and measures the time until the text shows. */
  async replyLatency(app: App, appUserId: string, text: string): Promise<number> {
    const seen = await this.widget.watchFor(text, { shown: this.text(text), shadowHost: "parley-messenger" });
    const sent = Date.now();
    await businessSays(app, appUserId, { text });
    return (await seen()) - sent;
  }

  /** The transport of the newest successful subscription to the conversation. */
  async subscribed(since = 0) {
    return this.widget.subscribed({ since });
  }

  state() {
    return this.widget.state();
  }
}

async function openMessenger(ctx: TestContext, app: App, options: Partial<WidgetPageOptions> = {}) {
  const widget = await suite.open(ctx, { widget: "parley", pageOrigin, serviceUrl: baseUrl, appToken: app.appToken, ...options });
  const visitor = new Visitor(widget);
  const appUser = await widget.initResolved();
  return { visitor, appUser };
}

/** No page error, no CSP violation, nothing asked of another host. */
async function expectClean(visitor: Visitor) {
  expect(visitor.widget.pageErrors).toEqual([]);
  const state = await visitor.state();
  expect(state.csp).toEqual([]);
  expect(state.errors).toEqual([]);
}

describe("Parley Messenger against wrangler dev", () => {
  it("boots from one script tag: serviceUrl defaults to the script's origin, styled by the app, isolated from the page's CSS", async (ctx) => {
    const app = await newApp("Messenger boot", { accentColor: "7b1fa2", brandColor: "004d40" });
    const { visitor, appUser } = await openMessenger(ctx, app, { closed: true });
    expect(appUser._id).toEqual(expect.any(String));
    await visitor.launcher.waitFor({ state: "visible" });
    // The page's `button { display: none !important }` does not reach the shadow root.
    await expect.poll(() => visitor.launcher.evaluate((b) => getComputedStyle(b).backgroundColor)).toBe("rgb(123, 31, 162)");
    expect(await visitor.panel.isVisible()).toBe(false);
    await visitor.launcher.click();
    await visitor.panel.waitFor({ state: "visible" });
    await expect.poll(() => visitor.host.locator("header").evaluate((h) => getComputedStyle(h).backgroundColor)).toBe("rgb(0, 77, 64)");
    await visitor.host.getByRole("heading", { name: "Messenger boot" }).waitFor();
    expect(await visitor.page.evaluate(() => localStorage.getItem("parley.deviceId"))).toMatch(/^[0-9a-f]{32}$/);
    expect(visitor.widget.calls.find((c) => c.path === "/v1/init" && c.type !== "preflight")?.status).toBe(200);
    await expectClean(visitor);
  });

  it("init rejects for an unknown app token and leaves the page as it was", async (ctx) => {
    const widget = await suite.open(ctx, { widget: "parley", pageOrigin, serviceUrl: baseUrl, appToken: "no-such-token" });
    const state = await widget.initSettled();
    expect(state.init).toBe("rejected");
    expect(state.error).toMatch(/ParleyError/);
    expect(await widget.page.locator("parley-messenger").count()).toBe(0);
    expect(await widget.page.evaluate(() => (window as any).Parley.isOpened())).toBe(false);
  });

  it("a visitor writes (shown at once, webhook), the business replies (< 1 s) and types (indicator)", async (ctx) => {
    const app = await newApp("Messenger conversation");
    const hook = suite.target.hook("messenger-conversation");
    await createWebhook(app, hook.url, ["message"]);
    const { visitor, appUser } = await openMessenger(ctx, app);

    await visitor.type("Hello from Parley Messenger");
    await visitor.text("Hello from Parley Messenger").waitFor({ state: "visible", timeout: 5_000 });
    const delivery = await hook.waitFor("message:appUser", (b) => b.trigger === "message:appUser");
    const deviceId = await visitor.page.evaluate(() => localStorage.getItem("parley.deviceId"));
    expect(delivery.body.messages[0]).toMatchObject({ role: "appUser", text: "Hello from Parley Messenger", source: { type: "web", id: deviceId } });
    await visitor.subscribed();
    // Settled: the pending mark is gone and the message is shown once.
    await expect.poll(() => visitor.log.locator(".pending").count()).toBe(0);
    expect(await visitor.text("Hello from Parley Messenger").count()).toBe(1);

    const latency = await visitor.replyLatency(app, appUser._id, "Hi! How can we help?");
    console.log(`parley messenger: business reply REST post -> visible: ${latency} ms`);
    expect(latency).toBeLessThan(REALTIME_BUDGET_MS);

    await businessTyping(app, appUser._id, "typing:start");
    await visitor.host.getByText("is typing").waitFor({ state: "visible", timeout: 5_000 });
    await businessSays(app, appUser._id, { text: "Done typing" });
    await visitor.text("Done typing").waitFor({ state: "visible" });
    await expect.poll(() => visitor.host.locator(".typing").textContent()).toBe("");
    const events = (await visitor.state()).events.map((e: { name: string; text?: string }) => `${e.name}:${e.text ?? ""}`);
    expect(events).toEqual(expect.arrayContaining(["ready:", "message:sent:Hello from Parley Messenger", "message:received:Hi! How can we help?"]));
    await expectClean(visitor);
  });

  it("unread badge while closed, read reset when the visitor opens it", async (ctx) => {
    const app = await newApp("Messenger unread");
    const { visitor, appUser } = await openMessenger(ctx, app);
    await visitor.type("Anyone there?");
    await visitor.subscribed();
    await expect.poll(() => visitor.log.locator(".pending").count()).toBe(0);
    await visitor.page.evaluate(() => (window as any).Parley.close());
    await businessSays(app, appUser._id, { text: "Yes!" });
    await businessSays(app, appUser._id, { text: "We are here." });
    await expect.poll(() => visitor.badge.textContent(), { timeout: 5_000 }).toBe("2");
    expect(await visitor.launcher.getAttribute("aria-label")).toBe("Open chat, 2 unread");
    expect((await conversationOf(app, appUser._id)).conversation.unreadCount).toBe(2);

    await visitor.launcher.click();
    await expect.poll(() => visitor.badge.isVisible()).toBe(false);
    await expect.poll(async () => (await conversationOf(app, appUser._id)).conversation.unreadCount, { timeout: 5_000 }).toBe(0);
    // The server stores the read before the browser sees its answer: wait for the answer too.
    await expect.poll(() => visitor.widget.calls.some((c) => c.method === "POST" && c.path.endsWith("/conversation/read") && c.status === 200)).toBe(true);
    const counts = (await visitor.state()).events.filter((e: { name: string }) => e.name === "unreadCount").map((e: { value: number }) => e.value);
    expect(counts).toEqual([1, 2, 0]);
    await expectClean(visitor);
  });

  it("action buttons: a postback click reaches the webhook, links open in a new tab, reply chips answer", async (ctx) => {
    const app = await newApp("Messenger actions");
    const hook = suite.target.hook("messenger-postback");
    await createWebhook(app, hook.url, ["postback", "message:appUser"]);
    const { visitor, appUser } = await openMessenger(ctx, app);
    await visitor.type("Options please");
    await visitor.subscribed();
    await businessSays(app, appUser._id, {
      text: "Pick one",
      actions: [
        { type: "postback", text: "Call me", payload: "CALL" },
        { type: "link", text: "Our site", uri: "https://example.com/" },
        { type: "webview", text: "Open form", uri: "https://example.com/form" },
      ],
    });
    const link = visitor.host.getByRole("link", { name: "Our site" });
    await link.waitFor();
    expect(await link.getAttribute("target")).toBe("_blank");
    expect(await link.getAttribute("rel")).toBe("noopener noreferrer");
    expect(await visitor.host.getByRole("link", { name: "Open form" }).getAttribute("target")).toBe("_blank");
    await visitor.host.getByRole("button", { name: "Call me" }).click();
    const postback = await hook.waitFor("postback", (b) => b.trigger === "postback");
    expect(postback.body.postbacks[0].action).toMatchObject({ type: "postback", text: "Call me", payload: "CALL" });

    await businessSays(app, appUser._id, { text: "Coffee or tea?", actions: [{ type: "reply", text: "Tea", payload: "TEA" }, { type: "reply", text: "Coffee", payload: "COFFEE" }] });
    await visitor.host.getByRole("button", { name: "Tea" }).click();
    const answer = await hook.waitFor("the quick reply", (b) => b.trigger === "message:appUser" && b.messages[0].text === "Tea");
    expect(answer.body.messages[0].payload).toBe("TEA");
    await expect.poll(() => visitor.host.getByRole("button", { name: "Coffee" }).count()).toBe(0);
    await expectClean(visitor);
  });

  it("location, share and buy actions; links in the text (http(s) only, never HTML); each message's time on focus", async (ctx) => {
    const app = await newApp("Messenger more actions");
    const { visitor, appUser } = await openMessenger(ctx, app);
    await visitor.type("Where do I start?");
    await visitor.subscribed();

    await businessSays(app, appUser._id, { text: 'Read https://example.com/help, or <img src=x onerror="window.injected=1"> javascript:alert(1)' });
    const link = visitor.host.getByRole("link", { name: "https://example.com/help" });
    await link.waitFor();
    expect(await link.getAttribute("href")).toBe("https://example.com/help");
    expect(await link.getAttribute("target")).toBe("_blank");
    expect(await link.getAttribute("rel")).toBe("noopener noreferrer");
    expect(await visitor.log.locator(".bubble img").count()).toBe(0);
    expect(await visitor.log.getByRole("link").count()).toBe(1);
    expect(await visitor.page.evaluate(() => (window as any).injected)).toBeUndefined();

    // The time shows when the message has focus (and on hover), as its received time.
    const message = visitor.log.locator("li.msg", { hasText: "Where do I start?" });
    const time = message.locator("time");
    expect((await time.boundingBox())!.width).toBeLessThanOrEqual(1);
    await message.focus();
    expect((await time.boundingBox())!.width).toBeGreaterThan(20);
    expect(await time.getAttribute("datetime")).toMatch(/^\d{4}-\d\d-\d\dT/);

    await visitor.widget.context.grantPermissions(["geolocation", "clipboard-read", "clipboard-write"], { origin: pageOrigin });
    await visitor.widget.context.setGeolocation({ latitude: 48.8583701, longitude: 2.2944813, accuracy: 10 });
    // Chromium on Linux has no share sheet; the clipboard is the fallback there, and it is what this checks.
    await visitor.page.evaluate(() => delete (Navigator.prototype as { share?: unknown }).share);
    await businessSays(app, appUser._id, {
      text: "Our shop",
      actions: [
        { type: "locationRequest", text: "Share your location" },
        { type: "share" },
        { type: "buy", text: "T-shirt", amount: 1250, currency: "usd" },
      ],
    });
    await visitor.host.getByText("T-shirt · $12.50").waitFor();
    expect(await visitor.host.getByRole("button", { name: /T-shirt/ }).count()).toBe(0);

    await visitor.host.getByRole("button", { name: "Share", exact: true }).click();
    await visitor.host.getByText("Copied to the clipboard.").waitFor();
    expect(await visitor.page.evaluate(() => navigator.clipboard.readText())).toBe("Our shop");

    await visitor.host.getByRole("button", { name: "Share your location" }).click();
    await visitor.text("My location: 48.85837, 2.294481").waitFor({ timeout: 5_000 });
    await expect.poll(async () => (await conversationOf(app, appUser._id)).conversation.messages.at(-1)).toMatchObject({
      role: "appUser",
      text: "My location: 48.85837, 2.294481",
      metadata: { latitude: 48.85837, longitude: 2.294481, accuracy: 10 },
    });
    await expectClean(visitor);
  });

  it("uploads an image with a preview and progress; the stored image replaces it", async (ctx) => {
    const app = await newApp("Messenger image");
    const { visitor, appUser } = await openMessenger(ctx, app);
    await visitor.host.locator("input[type=file]").setInputFiles({ name: "dot.png", mimeType: "image/png", buffer: PNG });
    const stored = visitor.log.locator(`img[src^="${baseUrl}/v1/media/"]`);
    await stored.waitFor({ state: "visible", timeout: 10_000 });
    expect(await stored.getAttribute("alt")).toBe("Image");
    await expect.poll(() => visitor.log.locator(".pending").count()).toBe(0);
    const { conversation } = await conversationOf(app, appUser._id);
    expect(conversation.messages[0]).toMatchObject({ type: "image", role: "appUser", mediaType: "image/png" });
    const upload = visitor.widget.calls.find((c) => c.method === "POST" && c.path.endsWith("/images"));
    expect(upload?.status).toBe(201);
    await expectClean(visitor);
  });

  it("history: the newest 100 first, older pages with `before` on scrolling up", async (ctx) => {
    const app = await newApp("Messenger history");
    const { visitor, appUser } = await openMessenger(ctx, app, { closed: true });
    for (let i = 1; i <= 130; i += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, j) => businessSays(app, appUser._id, { text: `history ${String(i + j).padStart(3, "0")}` })));
    }
    await visitor.widget.reload();
    await visitor.widget.initResolved();
    await visitor.page.evaluate(() => (window as any).Parley.open());
    await expect.poll(() => visitor.log.locator("li").count()).toBe(100);
    await visitor.host.locator(".scroller").evaluate((s) => (s.scrollTop = 0));
    await expect.poll(() => visitor.log.locator("li").count(), { timeout: 10_000 }).toBe(130);
    expect(visitor.widget.calls.some((c) => c.method === "GET" && /\/messages\?before=\d/.test(c.path) && c.status === 200)).toBe(true);
    await expect.poll(() => visitor.host.getByRole("button", { name: "Load earlier messages" }).isVisible()).toBe(false);
    await expectClean(visitor);
  });

  it("offline: says so, reconnects on its own and shows what was said meanwhile", async (ctx) => {
    const app = await newApp("Messenger offline");
    const { visitor, appUser } = await openMessenger(ctx, app);
    await visitor.type("Before going offline");
    await visitor.subscribed();
    await visitor.widget.context.setOffline(true);
    await visitor.host.getByRole("status").getByText("You are offline").waitFor({ timeout: 5_000 });
    // A message written offline fails, and says so with a way to retry.
    await visitor.type("Written offline");
    await visitor.host.getByText("Not sent.").waitFor({ timeout: 5_000 });
    await businessSays(app, appUser._id, { text: "Said while you were away" });
    const back = Date.now();
    await visitor.widget.context.setOffline(false);
    await visitor.text("Said while you were away").waitFor({ state: "visible", timeout: 10_000 });
    await visitor.host.getByRole("button", { name: "Retry" }).click();
    await expect.poll(() => visitor.log.locator(".pending").count(), { timeout: 5_000 }).toBe(0);
    const texts = (await conversationOf(app, appUser._id)).conversation.messages.map((m: { text: string }) => m.text);
    expect(texts).toEqual(["Before going offline", "Said while you were away", "Written offline"]);
    await visitor.subscribed(back);
    await expect.poll(() => visitor.host.locator(".status").isVisible()).toBe(false);
    // Realtime works again after the reconnect.
    expect(await visitor.replyLatency(app, appUser._id, "Welcome back")).toBeLessThan(REALTIME_BUDGET_MS);
  });

  it("without WebSocket in the page, it long-polls over HTTP and a business reply still arrives (< 1 s)", async (ctx) => {
    const app = await newApp("Messenger long-polling");
    const { visitor, appUser } = await openMessenger(ctx, app, { noWebSocket: true });
    await visitor.type("Polling");
    const subscription = await visitor.subscribed();
    expect(subscription.transport).not.toBe("websocket");
    const latency = await visitor.replyLatency(app, appUser._id, "Heard you over HTTP");
    console.log(`parley messenger long-polling: reply visible after ${latency} ms`);
    expect(latency).toBeLessThan(REALTIME_BUDGET_MS);
    expect(visitor.widget.websockets).toEqual([]);
    await expectClean(visitor);
  });

  it("keyboard only: Tab to the launcher, open, type, send, Escape closes and focus returns to the launcher", async (ctx) => {
    const app = await newApp("Messenger keyboard");
    const { visitor } = await openMessenger(ctx, app, { closed: true });
    const focused = () => visitor.page.evaluate(() => {
      const active = document.activeElement?.shadowRoot?.activeElement;
      return active ? `${active.tagName.toLowerCase()}${active.getAttribute("aria-label") ? `[${active.getAttribute("aria-label")}]` : ""}` : null;
    });
    await visitor.page.keyboard.press("Tab");
    expect(await focused()).toBe("button[Open chat]");
    await visitor.page.keyboard.press("Enter");
    await visitor.panel.waitFor({ state: "visible" });
    expect(await focused()).toBe("textarea[Type a message…]");
    await visitor.page.keyboard.type("Typed without a mouse");
    await visitor.page.keyboard.press("Enter");
    await visitor.text("Typed without a mouse").waitFor({ state: "visible" });
    await visitor.page.keyboard.press("Escape");
    await visitor.panel.waitFor({ state: "hidden" });
    expect(await focused()).toBe("button[Open chat]");
    expect(await visitor.launcher.getAttribute("aria-expanded")).toBe("false");
    await expectClean(visitor);
  });

  for (const colorScheme of ["light", "dark"] as const) {
    it(`accessibility audit (axe-core) with no serious or critical violation, and a screenshot, in ${colorScheme}`, async (ctx) => {
      const app = await newApp("Acme Support", { accentColor: "0b5ed7", brandColor: "1f2937" });
      const { visitor, appUser } = await openMessenger(ctx, app, { colorScheme, bypassCSP: true });
      await visitor.type("Hello, I need help with my order");
      await visitor.subscribed();
      // Stored before the business answers, so that the screenshot shows the conversation in its order.
      await expect.poll(() => visitor.log.locator(".pending").count()).toBe(0);
      await businessSays(app, appUser._id, { text: "Of course! What is your order number?", actions: [{ type: "link", text: "Track an order", uri: "https://example.com/track" }] });
      await businessSays(app, appUser._id, { text: "Or pick one:", actions: [{ type: "reply", text: "Returns", payload: "R" }, { type: "reply", text: "Delivery", payload: "D" }] });
      await visitor.host.getByRole("button", { name: "Delivery" }).waitFor();
      await businessTyping(app, appUser._id, "typing:start");
      await visitor.host.getByText("is typing").waitFor();

      await visitor.page.evaluate(AXE_SOURCE);
      const results = await visitor.page.evaluate(async () => (window as any).axe.run(document, { resultTypes: ["violations"] }));
      const serious = results.violations.filter((v: { impact: string }) => v.impact === "serious" || v.impact === "critical");
      const described = serious.map((v: { id: string; help: string; nodes: { target: unknown }[] }) => `${v.id}: ${v.help} (${v.nodes.map((n) => JSON.stringify(n.target)).join(", ")})`);
      const all = results.violations.map((v: { id: string; impact: string }) => `${v.id} (${v.impact})`).join(", ") || "none";
      console.log(`parley messenger axe-core ${colorScheme}: violations: ${all}`);
      expect(described).toEqual([]);

      const path = await visitor.widget.screenshot(`parley-messenger-${colorScheme}`);
      console.log(`parley messenger: screenshot ${path}`);
    });
  }

  it("the Smooch-like API: sendMessage, updateUser, track, open/close/isOpened, login (the conversation follows), logout, destroy", async (ctx) => {
    const app = await newApp("Messenger API");
    const { visitor, appUser } = await openMessenger(ctx, app, { closed: true });
    const userId = `ada-${Date.now()}@example.com`;
    const result = await visitor.page.evaluate(
      async ({ userId, jwt }) => {
        const parley = (window as any).Parley;
        const sent = await parley.sendMessage("Sent through the API");
        const updated = await parley.updateUser({ givenName: "Ada", properties: { plan: "pro" } });
        await parley.track("visited_pricing");
        const opened = [parley.isOpened()];
        parley.open();
        opened.push(parley.isOpened());
        parley.close();
        opened.push(parley.isOpened());
        const loggedIn = await parley.login(userId, jwt);
        const shownAfterLogin = document.querySelector("parley-messenger")!.shadowRoot!.textContent!.includes("Sent through the API");
        return {
          sent: { role: sent.role, text: sent.text },
          updated: { givenName: updated.givenName, properties: updated.properties },
          opened,
          loggedIn: { _id: loggedIn._id, userId: loggedIn.userId },
          shownAfterLogin,
        };
      },
      { userId, jwt: await app.userJwt(userId) },
    );
    // Signed in with a JWT, the realtime channel takes it too: the business still gets through.
    await expect
      .poll(() => visitor.widget.bayeux.filter((r) => r.direction === "out" && r.message.channel === "/meta/subscribe").at(-1)?.message.ext)
      .toEqual({ appUserId: result.loggedIn._id, jwt: expect.any(String) });
    const lastSubscribe = visitor.widget.bayeux.filter((r) => r.direction === "out" && r.message.channel === "/meta/subscribe").at(-1)!;
    await visitor.subscribed(lastSubscribe.at);
    await visitor.page.evaluate(() => (window as any).Parley.open());
    expect(await visitor.replyLatency(app, userId, "Hello Ada")).toBeLessThan(REALTIME_BUDGET_MS);
    const after = await visitor.page.evaluate(async () => {
      const parley = (window as any).Parley;
      const loggedOut = await parley.logout();
      const stillOpen = parley.isOpened();
      parley.destroy();
      return { loggedOut: { _id: loggedOut._id, userId: loggedOut.userId ?? null }, stillOpen, mounted: document.querySelectorAll("parley-messenger").length };
    });
    expect(result.sent).toEqual({ role: "appUser", text: "Sent through the API" });
    expect(result.updated).toEqual({ givenName: "Ada", properties: { plan: "pro" } });
    expect(result.opened).toEqual([false, true, false]);
    // The anonymous visitor signed in: their conversation is now the user's.
    expect(result.loggedIn.userId).toBe(userId);
    expect(result.shownAfterLogin).toBe(true);
    const { conversation } = await conversationOf(app, userId);
    expect(conversation.messages.map((m: { text: string }) => m.text)).toEqual(["Sent through the API", "Hello Ada"]);
    // Logged out: a new anonymous visitor, and destroy removed the messenger.
    expect(after.loggedOut.userId).toBeNull();
    expect([appUser._id, result.loggedIn._id]).not.toContain(after.loggedOut._id);
    expect(after.stillOpen).toBe(true);
    expect(after.mounted).toBe(0);
    const names = (await visitor.state()).events.map((e: { name: string }) => e.name);
    expect(names.filter((n: string) => n === "ready").length).toBe(3);
    expect(names.at(-1)).toBe("destroy");
    await expectClean(visitor);
  });

  it.for([
    { width: 1024, height: 768 },
    { width: 360, height: 740 },
  ])("the /demo page at $width×$height: the visitor writes in the messenger, the reply box answers as the business", async (viewport, ctx) => {
    const context = await suite.chromium.browser.newContext({ viewport });
    ctx.onTestFinished(() => context.close());
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    // Nothing misses, the browser's own favicon request included.
    page.on("response", (response) => response.status() >= 400 && errors.push(`${response.status()} ${response.url()}`));
    await page.goto(`${baseUrl}/demo`);
    const messenger = page.locator("parley-messenger");
    await page.getByText(/The visitor is app user/).waitFor({ timeout: 10_000 });
    const input = messenger.getByRole("textbox", { name: "Type a message…" });
    await input.fill("Hello, demo");
    await input.press("Enter");
    await messenger.getByRole("log").getByText("Hello, demo", { exact: true }).waitFor();
    await page.getByLabel("Reply as the business").fill("Hello, visitor");
    await page.getByRole("button", { name: "Send as the business" }).click();
    await messenger.getByRole("log").getByText("Hello, visitor", { exact: true }).waitFor({ timeout: 5_000 });
    await page.getByText("Sent as the business.").waitFor();
    // The reply box and the open messenger share the screen: neither covers the other.
    const panel = (await messenger.getByRole("dialog").boundingBox())!;
    const reply = (await page.getByLabel("Reply as the business").boundingBox())!;
    const send = (await page.getByRole("button", { name: "Send as the business" }).boundingBox())!;
    for (const box of [reply, send]) {
      expect(box.y >= panel.y + panel.height || box.y + box.height <= panel.y || box.x >= panel.x + panel.width || box.x + box.width <= panel.x).toBe(true);
      expect(box.y + box.height).toBeLessThanOrEqual(viewport.height);
    }
    if (viewport.width < 600) {
      mkdirSync(ARTIFACTS, { recursive: true });
      const path = join(ARTIFACTS, `parley-demo-${viewport.width}x${viewport.height}.png`);
      await page.screenshot({ path });
      console.log(`parley demo: screenshot ${path}`);
    }
    expect(errors).toEqual([]);
  });

  it("is full-screen on a phone-sized viewport", async (ctx) => {
    const app = await newApp("Messenger mobile");
    const { visitor } = await openMessenger(ctx, app, { viewport: { width: 390, height: 700 } });
    await visitor.panel.waitFor({ state: "visible" });
    const box = await visitor.panel.boundingBox();
    expect(box).toMatchObject({ x: 0, y: 0, width: 390, height: 700 });
    expect(await visitor.launcher.isVisible()).toBe(false);
    const path = await visitor.widget.screenshot("parley-messenger-mobile");
    console.log(`parley messenger: screenshot ${path}`);
  });
});
