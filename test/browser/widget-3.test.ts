// The official Web Messenger, smooch 3.9.3 (a devDependency, bundled at test time), on a page of
// another origin with serviceUrl pointing at `wrangler dev`: what a visitor and a business do.
import { describe, expect, it, type TestContext } from "vitest";
import { businessSays, businessTyping, configurePushChannels, createWebhook, newApp, baseUrl, pageOrigin } from "./api.ts";
import type { WidgetPage, WidgetPageOptions } from "./browser.ts";
import { browserSuite } from "./suite.ts";

/** What a business reply may take from the REST call to the visitor's screen. */
const REALTIME_BUDGET_MS = 1_000;

const suite = browserSuite("smooch 3.9.3");

/** A widget page for `appToken`. */
const openWidget = (ctx: TestContext, options: Omit<WidgetPageOptions, "widget" | "pageOrigin" | "serviceUrl">) =>
  suite.open(ctx, { widget: "3", pageOrigin, serviceUrl: baseUrl, ...options });

/** Posts as the business and measures the time until the text is in the widget. */
async function replyAndMeasure(widget: WidgetPage, post: () => Promise<unknown>, text: string) {
  const seen = await widget.watchFor(text);
  const sent = Date.now();
  await post();
  return (await seen(10_000)) - sent;
}

describe("smooch 3.9.3 against wrangler dev", () => {
  it("the API lets the page's origin call it with the widget's headers (CORS preflight of POST /v1/init)", async () => {
    const response = await fetch(`${baseUrl}/v1/init`, {
      method: "OPTIONS",
      headers: {
        origin: pageOrigin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "app-token,content-type,x-smooch-sdk",
      },
    });
    expect(response.status).toBeLessThan(300);
    expect(response.headers.get("access-control-allow-origin")).toMatch(new RegExp(`^(\\*|${pageOrigin.replace(/[.]/g, "\\.")})$`));
    const allowed = (response.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(/\s*,\s*/);
    if (!allowed.includes("*")) expect(allowed).toEqual(expect.arrayContaining(["app-token", "content-type", "x-smooch-sdk"]));
  });

  it("a visitor writes (webhook), the business replies (< 1 s), types (indicator) and sends a postback button the visitor clicks (webhook)", async (ctx) => {
    const app = await newApp("browser 3.9.3 scenario");
    const hook = suite.target.hook("scenario-3");
    await createWebhook(app, hook.url, ["message", "postback"]);

    const widget = await openWidget(ctx, { appToken: app.appToken });
    const appUser = await widget.initResolved();
    expect(appUser._id).toEqual(expect.any(String));

    // The visitor writes in the widget's input: the message reaches the webhook.
    await widget.type("Hello from the widget");
    await widget.text("Hello from the widget").waitFor({ state: "visible", timeout: 10_000 });
    const delivery = await hook.waitFor("message:appUser", (b) => b.trigger === "message:appUser" && b.messages?.[0]?.text === "Hello from the widget");
    expect(delivery.body.appUser._id).toBe(appUser._id);
    expect(delivery.body.messages[0]).toMatchObject({ role: "appUser", text: "Hello from the widget" });
    // The first message started the conversation: the widget connects to /faye and subscribes.
    await widget.subscribed();

    // The business replies over REST: the reply shows in the widget in real time.
    const latency = await replyAndMeasure(widget, () => businessSays(app, appUser._id, { text: "Hi! How can we help?" }), "Hi! How can we help?");
    console.log(`smooch 3.9.3: business reply REST post -> visible in the widget: ${latency} ms`);
    expect(latency).toBeLessThan(REALTIME_BUDGET_MS);

    // The business types: the indicator shows.
    await businessTyping(app, appUser._id, "typing:start");
    await widget.page.locator("#sk-conversation .sk-typing-indicator").waitFor({ state: "visible", timeout: 5_000 });

    // A postback button: the visitor clicks it and the postback webhook arrives.
    await businessSays(app, appUser._id, { text: "Shall we call you?", actions: [{ type: "postback", text: "Yes", payload: "YES" }] });
    const button = widget.page.locator("#sk-conversation .sk-action a", { hasText: "Yes" });
    await button.waitFor({ state: "visible", timeout: 5_000 });
    // An appMaker message hides the typing indicator.
    await expect.poll(() => widget.page.locator("#sk-conversation .sk-typing-indicator").count(), { timeout: 5_000 }).toBe(0);
    const screenshot = await widget.screenshot("smooch-3.9.3-conversation");
    console.log(`smooch 3.9.3: screenshot ${screenshot}`);
    await button.click();
    const postback = await hook.waitFor("postback", (b) => b.trigger === "postback");
    expect(postback.body.appUser._id).toBe(appUser._id);
    expect(postback.body.postbacks?.[0]?.action).toMatchObject({ type: "postback", text: "Yes", payload: "YES" });
    expect(postback.body.postbacks[0].message).toMatchObject({ role: "appMaker", text: "Shall we call you?" });

    expect(widget.pageErrors).toEqual([]);
    console.log(`smooch 3.9.3 scenario, calls to the API:\n${widget.callLog()}`);
  });

  it("a returning visitor of an app with push channels: init loads the conversation, subscribes and resolves; replies still arrive", async (ctx) => {
    const app = await newApp("browser 3.9.3 returning visitor");
    // app.integrations then lists fcm, apn and webpush: the widget looks in it for channels it links.
    await configurePushChannels(app);
    const widget = await openWidget(ctx, { appToken: app.appToken });
    const first = await widget.initResolved();
    expect(first.conversationStarted).toBeFalsy();
    await widget.type("First visit");
    await widget.text("First visit").waitFor({ state: "visible", timeout: 10_000 });
    await widget.subscribed();
    await businessSays(app, first._id, { text: "Welcome!" });
    await widget.text("Welcome!").waitFor({ state: "visible", timeout: 5_000 });

    // The same browser (its device id in localStorage) comes back.
    const callsBefore = widget.calls.length;
    const reloaded = Date.now();
    await widget.reload();
    const again = await widget.initResolved();
    // Init resolves once the conversation is loaded and subscribed.
    await widget.subscribed({ since: reloaded, timeoutMs: 1_000 });
    expect(again._id).toBe(first._id);
    expect(again.conversationStarted).toBe(true);
    await widget.text("First visit").waitFor({ state: "visible", timeout: 5_000 });
    await widget.text("Welcome!").waitFor({ state: "visible", timeout: 5_000 });
    const reloadCalls = widget.calls.slice(callsBefore);
    // 3.x loads the conversation through GET .../messages after init.
    expect(reloadCalls.some((c) => c.method === "GET" && /\/messages(\?|$)/.test(c.path) && c.status === 200)).toBe(true);

    const latency = await replyAndMeasure(widget, () => businessSays(app, first._id, { text: "Good to see you again" }), "Good to see you again");
    console.log(`smooch 3.9.3 returning visitor: reply visible after ${latency} ms`);
    expect(latency).toBeLessThan(REALTIME_BUDGET_MS);
    expect(widget.pageErrors).toEqual([]);
  });

  it("without WebSocket in the page, faye long-polls over HTTP and a business reply still arrives", async (ctx) => {
    const app = await newApp("browser 3.9.3 long-polling");
    const widget = await openWidget(ctx, { appToken: app.appToken, noWebSocket: true });
    const appUser = await widget.initResolved();
    expect(await widget.page.evaluate(() => typeof (window as { WebSocket?: unknown }).WebSocket)).toBe("undefined");
    await widget.type("Polling, polling");
    await widget.text("Polling, polling").waitFor({ state: "visible", timeout: 10_000 });
    const subscription = await widget.subscribed();
    expect(subscription.transport).not.toBe("websocket");

    const latency = await replyAndMeasure(widget, () => businessSays(app, appUser._id, { text: "Heard you over HTTP" }), "Heard you over HTTP");
    console.log(`smooch 3.9.3 long-polling: reply visible after ${latency} ms`);
    expect(latency).toBeLessThan(REALTIME_BUDGET_MS);
    expect(widget.websockets).toEqual([]);
    // faye's HTTP transports: cross-origin-long-polling (POST /faye) or callback-polling (GET /faye?jsonp=).
    expect(widget.calls.some((c) => /^\/faye(\?|$)/.test(c.path) && c.method !== "OPTIONS")).toBe(true);
    expect(widget.pageErrors).toEqual([]);
  });
});
