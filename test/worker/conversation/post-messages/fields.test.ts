import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { call, conversationOf, createApp, expectError, hexId, type TestApp } from "../../support/helpers";

const HEX24 = /^[0-9a-f]{24}$/;
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82]);

let app: TestApp;
let serial = 0;

beforeAll(async () => {
  app = await createApp("message fields");
});

/** A user who signed in on a device, as the web messenger does; returns its _id and device id. */
async function widgetUser(platform = "web") {
  const deviceId = hexId();
  const init = await call("POST", "/v1/init", app.token, { body: { device: { id: deviceId, platform }, userId: `fields${++serial}` } });
  expect(init.status, JSON.stringify(init.json)).toBe(200);
  return { id: init.json.appUser._id as string, userId: init.json.appUser.userId as string, deviceId };
}

const post = (id: string, body: unknown, auth: Record<string, string> = app.token) =>
  call("POST", `/v1/appusers/${id}/messages`, auth, { body });

async function posted(id: string, body: Record<string, unknown>, auth: Record<string, string> = app.token) {
  const response = await post(id, body, auth);
  expect(response.status, JSON.stringify(response.json)).toBe(201);
  return response.json.message;
}

describe("message type", () => {
  it("is text for a text message and image for a message with a mediaUrl", async () => {
    const { id } = await widgetUser();
    expect((await posted(id, { role: "appUser", text: "hi" })).type).toBe("text");
    const image = await posted(id, { role: "appUser", mediaUrl: "https://media.example.com/a.jpg", mediaType: "image/jpeg" });
    expect(image.type).toBe("image");
  });

  it("is image for an uploaded image", async () => {
    const { id } = await widgetUser();
    const form = new FormData();
    form.append("source", new File([PNG], "blob", { type: "image/jpeg" }));
    form.append("role", "appUser");
    const response = await call("POST", `/v1/appusers/${id}/images`, app.token, { raw: form });
    expect(response.status, JSON.stringify(response.json)).toBe(201);
    expect(response.json.message).toMatchObject({ type: "image", actions: [], source: { type: "api" } });
  });
});

describe("message source", () => {
  it("is the api for a message posted without a deviceId", async () => {
    const { id } = await widgetUser();
    expect((await posted(id, { role: "appUser", text: "hi" })).source).toEqual({ type: "api" });
    expect((await posted(id, { role: "appMaker", text: "hello" }, app.server)).source).toEqual({ type: "api" });
  });

  it.each(["web", "ios", "android", "other"])("names the sending %s device, by its platform", async (platform) => {
    const { id, deviceId } = await widgetUser(platform);
    const message = await posted(id, { role: "appUser", text: "from the widget", deviceId });
    expect(message.source).toEqual({ type: platform, id: deviceId });
    const read = await call("GET", `/v1/appusers/${id}/conversation`, app.token);
    expect(read.json.conversation.messages[0].source).toEqual({ type: platform, id: deviceId });
  });

  it("keeps a deviceId the user has never used, with the api as its type", async () => {
    const { id } = await widgetUser();
    const other = await widgetUser("ios");
    expect((await posted(id, { role: "appUser", text: "hi", deviceId: "never-seen" })).source).toEqual({ type: "api", id: "never-seen" });
    // Another user's device tells nothing about that device.
    expect((await posted(id, { role: "appUser", text: "hi", deviceId: other.deviceId })).source).toEqual({ type: "api", id: other.deviceId });
  });

  it("names the device an image was uploaded from", async () => {
    const { id, deviceId } = await widgetUser();
    const form = new FormData();
    form.append("source", new File([PNG], "blob", { type: "image/jpeg" }));
    form.append("role", "appUser");
    form.append("deviceId", deviceId);
    const response = await call("POST", `/v1/appusers/${id}/conversation/images`, app.token, { raw: form });
    expect(response.status, JSON.stringify(response.json)).toBe(201);
    expect(response.json.message.source).toEqual({ type: "web", id: deviceId });
  });
});

describe("what the web messenger sends along", () => {
  it("accepts _clientId and _clientSent without storing them, and stores a quick reply's payload", async () => {
    const { id, deviceId } = await widgetUser();
    const message = await posted(id, {
      role: "appUser",
      text: "Yes please",
      payload: "YES",
      _clientId: "0.123456789",
      _clientSent: "2026-11-22T10:00:00.000Z",
      deviceId,
    });
    expect(message).toMatchObject({ text: "Yes please", payload: "YES", source: { type: "web", id: deviceId } });
    expect(message).not.toHaveProperty("_clientId");
    expect(message).not.toHaveProperty("_clientSent");
    const read = await call("GET", `/v1/appusers/${id}/messages`, app.token);
    expect(read.json.messages[0]).toEqual(message);
  });

  it("accepts a numeric _clientSent, as the 2.x messenger may send it", async () => {
    const { id } = await widgetUser();
    await posted(id, { role: "appUser", text: "hi", _clientId: 12, _clientSent: 1795313577.804 });
  });
});

describe("message actions", () => {
  const actions = [
    { type: "link", text: "Read more", uri: "https://example.com/more" },
    { type: "webview", text: "Open", uri: "http://example.com/view" },
    { type: "postback", text: "Buy now", payload: "BUY_NOW" },
    { type: "reply", text: "Yes", payload: "YES", iconUrl: "https://example.com/yes.png" },
    { type: "reply", text: "No", payload: "NO" },
    { type: "locationRequest", text: "Share your location" },
    { type: "share" },
    { type: "buy", text: "Pay", amount: 1250, currency: "EUR" },
    { type: "buy", text: "Pay in dollars", amount: 500 },
  ];

  it("are stored on an appMaker message, each with an _id, a buy with its state and a lowercase currency (usd by default)", async () => {
    const { id } = await widgetUser();
    const message = await posted(id, { role: "appMaker", text: "Choose", actions }, app.server);
    expect(message.actions).toHaveLength(actions.length);
    for (const action of message.actions) expect(action._id).toMatch(HEX24);
    expect(new Set(message.actions.map((a: { _id: string }) => a._id)).size).toBe(actions.length);
    const expected = actions.map((action) =>
      action.type === "buy" ? { ...action, currency: (action.currency ?? "usd").toLowerCase(), state: "offered" } : action,
    );
    expect(message.actions.map(({ _id, ...rest }: { _id: string }) => rest)).toEqual(expected);

    const read = await call("GET", `/v1/appusers/${id}/conversation`, app.token);
    expect(read.json.conversation.messages.at(-1)).toEqual(message);
  });

  it("are an empty list on every message without any", async () => {
    const { id } = await widgetUser();
    expect((await posted(id, { role: "appUser", text: "hi" })).actions).toEqual([]);
    expect((await posted(id, { role: "appMaker", text: "hello" }, app.server)).actions).toEqual([]);
    expect((await posted(id, { role: "appUser", text: "hi", actions: [] })).actions).toEqual([]);
  });

  it("are refused on an appUser message with a 400 naming actions", async () => {
    const { id } = await widgetUser();
    expectError(await post(id, { role: "appUser", text: "hi", actions: [{ type: "share" }] }), 400, "actions");
    expectError(await call("GET", `/v1/appusers/${id}/conversation`, app.token), 404);
  });

  const many = Array.from({ length: 21 }, (_, i) => ({ type: "reply", text: `r${i}`, payload: `p${i}` }));
  it.each([
    ["actions is not a list", { type: "share" }, "actions"],
    ["there are more than 20", many, "actions"],
    ["an action has no type", [{ text: "x" }], "actions.0.type"],
    ["an action's type is unknown", [{ type: "carousel", text: "x" }], "actions.0.type"],
    ["a link has no uri", [{ type: "link", text: "x" }], "actions.0.uri"],
    ["a link's uri is relative", [{ type: "link", text: "x", uri: "/more" }], "actions.0.uri"],
    ["a webview's uri is javascript:", [{ type: "share" }, { type: "webview", text: "x", uri: "javascript:alert(1)" }], "actions.1.uri"],
    ["a link has no text", [{ type: "link", uri: "https://example.com" }], "actions.0.text"],
    ["a postback has an empty text", [{ type: "postback", text: " ", payload: "P" }], "actions.0.text"],
    ["a postback has no payload", [{ type: "postback", text: "x" }], "actions.0.payload"],
    ["a reply's payload is not a string", [{ type: "reply", text: "x", payload: 1 }], "actions.0.payload"],
    ["a reply's iconUrl is not a URL", [{ type: "reply", text: "x", payload: "p", iconUrl: "icon.png" }], "actions.0.iconUrl"],
    ["a locationRequest has no text", [{ type: "locationRequest" }], "actions.0.text"],
    ["a buy has no amount", [{ type: "buy", text: "Pay" }], "actions.0.amount"],
    ["a buy's amount is 0", [{ type: "buy", text: "Pay", amount: 0 }], "actions.0.amount"],
    ["a buy's amount is fractional", [{ type: "buy", text: "Pay", amount: 12.5 }], "actions.0.amount"],
    ["a buy's amount is a string", [{ type: "buy", text: "Pay", amount: "100" }], "actions.0.amount"],
    ["a buy's currency is not 3 letters", [{ type: "buy", text: "Pay", amount: 100, currency: "euro" }], "actions.0.currency"],
    ["an action is not an object", ["share"], "actions.0"],
  ])("on an appMaker message answer 400 naming the field when %s", async (_, value, field) => {
    const { id } = await widgetUser();
    expectError(await post(id, { role: "appMaker", text: "Choose", actions: value }, app.server), 400, field);
  });
});

describe("messages stored before type, actions and source existed", () => {
  it("read with the values they would have had", async () => {
    const { id } = await widgetUser();
    await posted(id, { role: "appUser", text: "new" });
    const stub = await conversationOf(id);
    const legacy = [
      { _id: hexId(), authorId: id, role: "appUser", text: "old text" },
      { _id: hexId(), authorId: id, role: "appUser", text: "https://m.example.com/a.png", mediaUrl: "https://m.example.com/a.png", mediaType: "image/png" },
    ];
    await runInDurableObject(stub, (_instance, state) => {
      legacy.forEach((body, i) => state.storage.sql.exec("INSERT INTO messages (received_ms, id, body) VALUES (?, ?, ?)", i + 1, body._id, JSON.stringify(body)));
    });
    // As an object wakes on what an earlier version stored: nothing of it in memory.
    await evictDurableObject(stub);
    const read = await call("GET", `/v1/appusers/${id}/conversation`, app.token);
    const [text, image] = read.json.conversation.messages;
    expect(text).toEqual({ ...legacy[0], type: "text", actions: [], source: { type: "api" }, received: 0.001 });
    expect(image).toEqual({ ...legacy[1], type: "image", actions: [], source: { type: "api" }, received: 0.002 });
  });
});
