// Parley Desk (GET /desk, src/browser/desk/) against `wrangler dev`, as its local agent: an agent
// answers a visitor who writes from Parley Messenger in another page, sees the visitor's messages
// arrive live, triages (assign, close, search), by keyboard alone, and passes an axe-core audit
// in light and dark and at 360 px.
import { describe, expect, it, type TestContext } from "vitest";
import type { App } from "../support/apps.ts";
import { addAgent, baseUrl, businessSays, conversationOf, createUser, eraseMessage, newApp, pageOrigin, triage, typing, updateUser } from "./api.ts";
import { DeskPage, type DeskOptions } from "./desk-page.ts";
import { browserSuite } from "./suite.ts";

/** What a visitor's message may take to show in the open Desk (issue 26: 1 s p50, 2 s p99). */
const LIVE_BUDGET_MS = 2_000;
/** A 1×1 PNG, for the upload. */
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");

const suite = browserSuite("parley desk");

/** A visitor on a business's page with Parley Messenger open. */
async function visitorOf(ctx: TestContext, app: App) {
  const widget = await suite.open(ctx, { widget: "parley", pageOrigin, serviceUrl: baseUrl, appToken: app.appToken });
  const appUser = await widget.initResolved();
  const host = widget.page.locator("parley-messenger");
  const say = async (text: string) => {
    const input = host.getByRole("textbox", { name: "Type a message…" });
    await input.fill(text);
    await input.press("Enter");
  };
  return { widget, appUser, host, say, log: host.getByRole("log") };
}

async function openDesk(ctx: TestContext, options: DeskOptions) {
  const desk = await DeskPage.open(suite.chromium.browser, options);
  ctx.onTestFailed(() => console.log(desk.diagnostics()));
  ctx.onTestFinished(() => desk.close());
  return desk;
}

/** Waits until the conversation index lists the user's newest message (its lag is under 2 s). */
async function indexed(app: App, appUserId: string, text: string) {
  await expect
    .poll(
      async () => {
        const response = await fetch(`${baseUrl}/desk/api/apps/${app.appId}/conversations?status=all&limit=100`);
        const { conversations } = await response.json();
        return conversations.find((e: any) => e.appUser._id === appUserId)?.lastMessage?.text;
      },
      { timeout: 10_000, interval: 100 },
    )
    .toBe(text);
}

describe("Parley Desk against wrangler dev", () => {
  it("an agent answers a visitor writing from Parley Messenger: unread badge, read on opening, typing shown, Enter sends, Shift+Enter a new line", async (ctx) => {
    const app = await newApp("Desk answers");
    const visitor = await visitorOf(ctx, app);
    await visitor.widget.page.evaluate(() => (window as any).Parley.updateUser({ givenName: "Vera", properties: { plan: "pro" } }));
    await visitor.say('Hello, <img src=x onerror="window.injected=1"> can you help?');
    await businessSays(app, visitor.appUser._id, { text: "Pick a topic", actions: [{ type: "postback", text: "Billing", payload: "B" }, { type: "link", text: "Our FAQ", uri: "https://example.com/faq" }] });
    await visitor.say("Still there?");
    await indexed(app, visitor.appUser._id, "Still there?");

    const desk = await openDesk(ctx, { appId: app.appId });
    const entry = desk.entry("Vera");
    await entry.waitFor();
    await expect.poll(() => entry.locator(".badge").textContent()).toMatch(/^2/);
    await entry.click();
    // The user's text is text: no element was made of it.
    await desk.log.getByText('Hello, <img src=x onerror="window.injected=1"> can you help?').waitFor();
    expect(await desk.log.locator("img").count()).toBe(0);
    expect(await desk.page.evaluate(() => (window as any).injected)).toBeUndefined();
    // The business's buttons are shown; a link opens in a new tab.
    await desk.log.getByText("Billing", { exact: true }).waitFor();
    expect(await desk.log.getByRole("link", { name: "Our FAQ" }).getAttribute("target")).toBe("_blank");
    // Opening it marked it read for the business.
    await expect.poll(() => desk.calls.some((c) => /^POST \/desk\/api\/apps\/\w+\/appusers\/\w+\/read -> 200$/.test(c))).toBe(true);
    await expect.poll(() => entry.locator(".badge").count()).toBe(0);
    // The profile: the user's fields and properties.
    const profile = desk.page.getByRole("complementary", { name: "Profile" });
    await profile.getByText("Vera", { exact: true }).waitFor();
    await profile.getByText("pro", { exact: true }).waitFor();
    await profile.getByText(visitor.appUser._id, { exact: true }).waitFor();

    // The agent types: the visitor sees it; Shift+Enter is a new line, Enter sends.
    await desk.composer.focus();
    await desk.page.keyboard.type("Yes, we can.");
    await visitor.host.getByText("is typing").waitFor({ timeout: 5_000 });
    await desk.page.keyboard.press("Shift+Enter");
    await desk.page.keyboard.type("What is your order number?");
    await desk.page.keyboard.press("Enter");
    await visitor.log.getByText("What is your order number?", { exact: false }).waitFor({ timeout: 5_000 });
    expect(await desk.composer.inputValue()).toBe("");
    const last = (await conversationOf(app, visitor.appUser._id)).conversation.messages.at(-1);
    expect(last).toMatchObject({ role: "appMaker", text: "Yes, we can.\nWhat is your order number?", name: "Local agent" });
    await expect.poll(() => desk.calls.some((c) => c.includes("/activity -> 200"))).toBe(true);
    await desk.log.getByText("What is your order number?", { exact: false }).waitFor();
    await desk.expectClean();
  });

  it("sends an image, shown inline on both sides; the profile lists the visitor's device", async (ctx) => {
    const app = await newApp("Desk image");
    const visitor = await visitorOf(ctx, app);
    await visitor.say("Send me the picture");
    await indexed(app, visitor.appUser._id, "Send me the picture");
    const desk = await openDesk(ctx, { appId: app.appId });
    await desk.entry("Visitor").click();
    const profile = desk.page.getByRole("complementary", { name: "Profile" });
    await profile.getByText("web", { exact: true }).waitFor();
    await desk.page.locator("input[type=file]").setInputFiles({ name: "dot.png", mimeType: "image/png", buffer: PNG });
    const shown = desk.log.locator(`img[src^="${baseUrl}/v1/media/"]`);
    await shown.waitFor({ state: "visible", timeout: 10_000 });
    expect(await shown.getAttribute("alt")).toBe("Image from Local agent");
    await visitor.log.locator(`img[src^="${baseUrl}/v1/media/"]`).waitFor({ state: "visible", timeout: 5_000 });
    await desk.expectClean();
  });

  it(`live: a visitor's message shows in the list and the open conversation without a reload (< ${LIVE_BUDGET_MS} ms), with their typing; in the background, the title counts and a notification shows`, async (ctx) => {
    const app = await newApp("Desk live");
    const first = await visitorOf(ctx, app);
    await first.say("First visitor here");
    await indexed(app, first.appUser._id, "First visitor here");
    const desk = await openDesk(ctx, { appId: app.appId });
    await desk.context.grantPermissions(["notifications"], { origin: baseUrl });
    await desk.entry("Visitor").click();
    await desk.log.getByText("First visitor here").waitFor();

    // The user's typing (the contract's messengers send none: posted as the app user), then their message.
    await typing(app, first.appUser._id, "typing:start", "appUser");
    await desk.page.getByText("is typing…").waitFor({ timeout: 5_000 });
    const seen = desk.page.evaluate(
      (text) =>
        new Promise<number>((resolve) => {
          const check = () => document.querySelector("[role=log]")?.textContent?.includes(text) && (observer.disconnect(), resolve(Date.now()));
          const observer = new MutationObserver(check);
          observer.observe(document.body, { subtree: true, childList: true, characterData: true });
        }),
      "Typing and sent",
    );
    const sent = Date.now();
    await first.host.getByRole("textbox", { name: "Type a message…" }).fill("Typing and sent");
    await first.host.getByRole("textbox", { name: "Type a message…" }).press("Enter");
    const latency = (await seen) - sent;
    console.log(`parley desk: visitor message -> shown in the open Desk: ${latency} ms`);
    expect(latency).toBeLessThan(LIVE_BUDGET_MS);
    // A message from the user ends their typing.
    await expect.poll(() => desk.page.getByText("is typing…").count()).toBe(0);

    // A second visitor, while the Desk is in the background: the list gains them at the top (the
    // entry that had focus keeps it), the title counts, a notification shows; back in front, the
    // title is plain again.
    await desk.entry("Visitor").focus();
    await desk.page.evaluate(() => {
      Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
      document.dispatchEvent(new Event("visibilitychange"));
    });
    const second = await visitorOf(ctx, app);
    await second.widget.page.evaluate(() => (window as any).Parley.updateUser({ givenName: "Sam" }));
    await second.say("Second visitor here");
    await desk.entry("Sam").waitFor({ timeout: LIVE_BUDGET_MS * 2 });
    expect(await desk.list.getByRole("button").first().textContent()).toMatch(/^Sam/);
    expect(await desk.page.evaluate(() => document.activeElement?.textContent)).toMatch(/^Visitor/);
    await expect.poll(() => desk.page.title()).toBe("(1) Parley Desk");
    await expect.poll(() => desk.page.evaluate(() => (window as any).__desk.notifications)).toEqual([expect.objectContaining({ title: "Sam", body: "Second visitor here" })]);
    await desk.page.evaluate(() => {
      Object.defineProperty(document, "hidden", { configurable: true, get: () => false });
      document.dispatchEvent(new Event("visibilitychange"));
    });
    await expect.poll(() => desk.page.title()).toBe("Parley Desk");
    await desk.expectClean();
  });

  it("live: a message erased on its own leaves the open conversation, and the profile follows the user's updates", async (ctx) => {
    const app = await newApp("Desk erasure");
    const user = await createUser(app, "eve-1", { givenName: "Eve" });
    const erased = await businessSays(app, user._id, { text: "Soon erased" });
    await businessSays(app, user._id, { text: "Still here" });
    await indexed(app, user._id, "Still here");
    const desk = await openDesk(ctx, { appId: app.appId });
    await desk.entry("Eve").click();
    await desk.log.getByText("Soon erased").waitFor();
    // The live channel is open once a message sent now shows.
    await businessSays(app, user._id, { text: "Live now" });
    await desk.log.getByText("Live now").waitFor({ timeout: LIVE_BUDGET_MS * 2 });

    // Not the newest: the list's entry stays as it was, the conversation drops it.
    await eraseMessage(app, user._id, erased._id);
    await expect.poll(() => desk.log.getByText("Soon erased").count(), { timeout: LIVE_BUDGET_MS * 2 }).toBe(0);
    expect(await desk.log.getByText("Still here").count()).toBe(1);

    const profile = desk.page.getByRole("complementary", { name: "Profile" });
    await updateUser(app, user._id, { surname: "Moss", properties: { plan: "pro" } });
    await profile.getByText("Moss", { exact: true }).waitFor({ timeout: LIVE_BUDGET_MS * 2 });
    await profile.getByText("pro", { exact: true }).waitFor();
    await desk.page.getByRole("heading", { name: "Eve Moss" }).waitFor();
    await desk.expectClean();
  });

  it("assign to me, to another agent and unassign; close and reopen; the user filter and message search", async (ctx) => {
    const app = await newApp("Desk triage");
    await addAgent(app, "bo@example.com", "Bo");
    const visitor = await visitorOf(ctx, app);
    await visitor.widget.page.evaluate(() => (window as any).Parley.updateUser({ givenName: "Tess", email: "tess@example.com" }));
    await visitor.say("My parcel never arrived");
    await indexed(app, visitor.appUser._id, "My parcel never arrived");
    const desk = await openDesk(ctx, { appId: app.appId });
    await desk.entry("Tess").click();
    const assignee = desk.page.getByRole("combobox", { name: "Assignee" });
    const index = async () => {
      const { conversations } = await (await fetch(`${baseUrl}/desk/api/apps/${app.appId}/conversations?status=all`)).json();
      return conversations.find((e: any) => e.appUser._id === visitor.appUser._id);
    };

    await assignee.selectOption({ label: "Me (Local agent)" });
    await desk.entry("Tess").getByText("Assigned to Local agent").waitFor();
    await desk.page.getByRole("checkbox", { name: "Mine" }).check();
    await desk.entry("Tess").waitFor();
    await desk.page.getByRole("checkbox", { name: "Mine" }).uncheck();
    await assignee.selectOption({ label: "Bo (bo@example.com)" });
    await desk.entry("Tess").getByText("Assigned to Bo").waitFor();
    expect((await index()).assignee).toEqual({ email: "bo@example.com", name: "Bo" });
    await assignee.selectOption({ label: "Unassigned" });
    await expect.poll(async () => (await index()).assignee).toBeNull();

    await desk.page.getByRole("button", { name: "Close conversation" }).click();
    await expect.poll(() => desk.entry("Tess").count()).toBe(0);
    expect((await index()).status).toBe("closed");
    await desk.page.getByRole("combobox", { name: "Show conversations" }).selectOption("closed");
    await desk.entry("Tess").waitFor();
    await desk.page.getByRole("button", { name: "Reopen conversation" }).click();
    await expect.poll(async () => (await index()).status).toBe("open");
    await desk.page.getByRole("combobox", { name: "Show conversations" }).selectOption("all");

    await desk.page.getByRole("searchbox", { name: "Filter by user" }).fill("tess@");
    await desk.entry("Tess").waitFor();
    await desk.page.getByRole("searchbox", { name: "Filter by user" }).fill("nobody-like-this");
    await desk.page.getByText("No conversation here.").waitFor();
    await desk.page.getByRole("searchbox", { name: "Filter by user" }).fill("");
    await desk.entry("Tess").waitFor();

    // Closed and assigned elsewhere while another conversation is open, Tess's leaves the open
    // list: opened from a search result, its entry is read, and the triage controls show where it stands.
    await desk.page.getByRole("combobox", { name: "Show conversations" }).selectOption("open");
    const other = await createUser(app, `uma-${Date.now()}@example.com`, { givenName: "Uma" });
    await businessSays(app, other._id, { text: "Hello Uma" });
    await desk.entry("Uma").click();
    await desk.page.getByRole("log", { name: "Messages" }).getByText("Hello Uma").waitFor();
    await triage(app, visitor.appUser._id, { status: "closed", assignee: "bo@example.com" });
    await expect.poll(() => desk.entry("Tess").count()).toBe(0);
    await desk.page.getByRole("searchbox", { name: "Search messages" }).fill("parcel arr");
    await desk.page.getByRole("searchbox", { name: "Search messages" }).press("Enter");
    const result = desk.page.getByRole("list", { name: "Search results" }).getByRole("button", { name: /^Tess/ });
    await result.waitFor();
    expect(await result.textContent()).toContain("My parcel never arrived");
    await result.click();
    await desk.page.getByRole("button", { name: "Reopen conversation" }).waitFor();
    expect(await assignee.inputValue()).toBe("bo@example.com");
    expect(desk.calls).toContain(`GET /desk/api/apps/${app.appId}/appusers/${visitor.appUser._id}/conversation -> 200`);
    await desk.page.getByRole("button", { name: "Clear search" }).click();
    await desk.page.getByRole("list", { name: "Conversations" }).waitFor();
    await desk.expectClean();
  });

  it("pages: the list's next page with `before`, the history's older messages", async (ctx) => {
    const app = await newApp("Desk paging");
    // 27 conversations (a page is 25), the oldest with 105 messages (a history page is 100).
    const users: Array<{ _id: string; userId: string }> = [];
    for (let i = 1; i <= 27; i++) users.push(await createUser(app, `paged-${i}`, { givenName: `Paged${String(i).padStart(2, "0")}` }));
    for (let i = 1; i <= 105; i += 15) {
      await Promise.all(Array.from({ length: Math.min(15, 106 - i) }, (_, j) => businessSays(app, users[0]._id, { text: `history ${String(i + j).padStart(3, "0")}` })));
    }
    for (const user of users.slice(1)) await businessSays(app, user._id, { text: `hello ${user.userId}` });
    await indexed(app, users[26]._id, "hello paged-27");
    const desk = await openDesk(ctx, { appId: app.appId });
    await desk.entry("Paged27").waitFor();
    expect(await desk.list.getByRole("button", { name: /^Paged/ }).count()).toBe(25);
    await desk.page.getByRole("button", { name: "Load more" }).click();
    await expect.poll(() => desk.list.getByRole("button", { name: /^Paged/ }).count()).toBe(27);
    expect(desk.calls.some((c) => /\/conversations\?status=open&before=\d/.test(c) && c.endsWith("200"))).toBe(true);
    expect(await desk.page.getByRole("button", { name: "Load more" }).isVisible()).toBe(false);

    await desk.entry("Paged01").click();
    await desk.log.getByText("history 105").waitFor();
    expect(await desk.log.locator("li").count()).toBe(100);
    await desk.page.getByRole("button", { name: "Load earlier messages" }).click();
    await expect.poll(() => desk.log.locator("li").count()).toBe(105);
    await desk.log.getByText("history 001").waitFor();
    expect(await desk.page.getByRole("button", { name: "Load earlier messages" }).isVisible()).toBe(false);
    await desk.expectClean();
  });

  it("keyboard only: Tab to the list, arrows between conversations, Enter opens it, type and send, Back at 360 px returns to the list", async (ctx) => {
    const app = await newApp("Desk keyboard");
    for (const name of ["Kim", "Lou"]) {
      const visitor = await visitorOf(ctx, app);
      await visitor.widget.page.evaluate((givenName) => (window as any).Parley.updateUser({ givenName }), name);
      await visitor.say(`${name} writes`);
      await indexed(app, visitor.appUser._id, `${name} writes`);
    }
    const desk = await openDesk(ctx, { appId: app.appId, viewport: { width: 360, height: 740 } });
    await desk.entry("Lou").waitFor();
    const focused = () => desk.page.evaluate(() => document.activeElement?.textContent?.slice(0, 3) ?? null);
    for (let presses = 0; presses < 20 && (await focused()) !== "Lou"; presses++) await desk.page.keyboard.press("Tab");
    expect(await focused()).toBe("Lou");
    await desk.page.keyboard.press("ArrowDown");
    expect(await focused()).toBe("Kim");
    await desk.page.keyboard.press("Enter");
    await desk.log.getByText("Kim writes").waitFor();
    expect(await desk.page.evaluate(() => document.activeElement?.getAttribute("id"))).toBe("reply");
    await desk.page.keyboard.type("Answered by keyboard");
    await desk.page.keyboard.press("Enter");
    await desk.log.getByText("Answered by keyboard").waitFor();
    // At 360 px the list is hidden while a conversation is open: Back shows it, focus on Kim's entry.
    expect(await desk.list.isVisible()).toBe(false);
    await desk.page.getByRole("button", { name: "Back to the list" }).focus();
    await desk.page.keyboard.press("Enter");
    await desk.list.waitFor();
    expect(await focused()).toBe("Kim");
    await desk.expectClean();
  });

  for (const [label, options] of [
    ["light", { colorScheme: "light" }],
    ["dark", { colorScheme: "dark" }],
    ["360 px", { viewport: { width: 360, height: 740 } }],
  ] as const) {
    it(`accessibility audit (axe-core) with no serious or critical violation, and a screenshot, in ${label}`, async (ctx) => {
      const app = await newApp(`Desk audit ${label}`);
      const visitor = await visitorOf(ctx, app);
      await visitor.widget.page.evaluate(() => (window as any).Parley.updateUser({ givenName: "Ada", surname: "Byron", properties: { plan: "pro", seats: 3 } }));
      await visitor.say("Hello, my order is late");
      await businessSays(app, visitor.appUser._id, { text: "Sorry! Which order?", actions: [{ type: "postback", text: "Order 1", payload: "1" }] });
      await visitor.say("The blue one https://example.com/orders/42");
      await indexed(app, visitor.appUser._id, "The blue one https://example.com/orders/42");
      const desk = await openDesk(ctx, { appId: app.appId, bypassCSP: true, ...options });
      const list = await desk.axe();
      await desk.entry("Ada").click();
      await desk.log.getByText("Sorry! Which order?").waitFor();
      const open = await desk.axe();
      console.log(`parley desk axe-core ${label}: list: ${list.all}; conversation: ${open.all}`);
      expect([...list.serious, ...open.serious]).toEqual([]);
      // Nothing wider than the window.
      expect(await desk.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(options.viewport?.width ?? 1280);
      console.log(`parley desk: screenshot ${await desk.screenshot(`parley-desk-${label.replace(" ", "")}`)}`);
    });
  }
});
