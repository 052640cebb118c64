// The older line of the official Web Messenger, smooch 2.8.1 with its own React 0.14 (npm aliases,
// bundled at test time), against `wrangler dev`: it boots, the visitor sends, the business's reply
// arrives in real time.
import { describe, expect, it } from "vitest";
import { baseUrl, businessSays, configurePushChannels, createWebhook, newApp, pageOrigin } from "./api.ts";
import { browserSuite } from "./suite.ts";

const REALTIME_BUDGET_MS = 1_000;

const suite = browserSuite("smooch 2.8.1");

describe("smooch 2.8.1 against wrangler dev", () => {
  it("boots for an app with push channels, the visitor sends a message (webhook), the business's reply shows in real time", async (ctx) => {
    const app = await newApp("browser 2.8.1 scenario");
    await configurePushChannels(app);
    const hook = suite.target.hook("scenario-2");
    await createWebhook(app, hook.url, ["message:appUser"]);

    const widget = await suite.open(ctx, { widget: "2", pageOrigin, serviceUrl: baseUrl, appToken: app.appToken });
    expect(await widget.page.evaluate(() => (window as any).Smooch.VERSION)).toBe("2.8.1");
    const appUser = await widget.initResolved();

    await widget.type("Hello from the 2.x widget");
    await widget.text("Hello from the 2.x widget").waitFor({ state: "visible", timeout: 10_000 });
    const delivery = await hook.waitFor("message:appUser", (b) => b.messages?.[0]?.text === "Hello from the 2.x widget");
    expect(delivery.body.appUser._id).toBe(appUser._id);
    const subscription = await widget.subscribed();
    // 2.x puts its credentials at the top level of /meta/subscribe, not in ext.
    const request = widget.bayeux.find((r) => r.direction === "out" && r.message.channel === "/meta/subscribe" && r.message.id === subscription.message.id);
    expect(request?.message).toMatchObject({ appUserId: appUser._id, appToken: app.appToken });

    const seen = await widget.watchFor("Hi from the business");
    const sent = Date.now();
    await businessSays(app, appUser._id, { text: "Hi from the business" });
    const latency = (await seen(10_000)) - sent;
    console.log(`smooch 2.8.1: business reply REST post -> visible in the widget: ${latency} ms`);
    expect(latency).toBeLessThan(REALTIME_BUDGET_MS);
    // Its own message came back over Bayeux too: shown once (source.id is this device).
    await expect.poll(() => widget.text("Hello from the 2.x widget").count()).toBe(1);
    console.log(`smooch 2.8.1: screenshot ${await widget.screenshot("smooch-2.8.1-conversation")}`);
    expect(widget.pageErrors).toEqual([]);
  });
});
