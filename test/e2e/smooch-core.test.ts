// The official client, smooch-core 1.5.0, against the worker running in `wrangler dev`.
import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { api, createApp, HEX_ID, options, refusal, SmoochCore } from "./client.ts";

const gravatar = (email: string) =>
  expect.stringContaining(createHash("md5").update(email.trim().toLowerCase()).digest("hex"));

let keyId: string;
let secret: string;
let appJwt: string;
/** An app-token client: what a device or browser uses. */
let withToken: any;
/** An app-scope client: the app's server. */
let asApp: any;
const asUser = (userId: string) => new SmoochCore({ keyId, secret, scope: "appUser", userId }, options);

let devices = 0;
async function init(client: any, userId: string, deviceId = `e2e-device-${++devices}`) {
  const { appUser } = await client.appUsers.init({ device: { id: deviceId, platform: "ios", appVersion: "1.0" }, userId });
  return appUser;
}

beforeAll(async () => {
  const app = await createApp("smooch-core e2e");
  ({ keyId, secret, appJwt } = app);
  withToken = new SmoochCore({ appToken: app.appToken }, options);
  asApp = new SmoochCore({ keyId, secret, scope: "app" }, options);
});

describe("smooch-core 1.5.0 against wrangler dev", () => {
  it("init creates the app user for a device and userId, returns the app's push settings, and is idempotent", async () => {
    const device = { id: "e2e-init-device", platform: "ios", appVersion: "1.0", info: { os: "iPhone OS", osVersion: "8.1.2" } };
    const first = await withToken.appUsers.init({ device, userId: "init@example.com" });
    expect(first.app).toMatchObject({ hasIcon: false, apnEnabled: false });
    expect(first.app).toHaveProperty("gcmProject");
    expect(first.appUser).toMatchObject({ _id: expect.stringMatching(HEX_ID), userId: "init@example.com", properties: {} });

    const again = await withToken.appUsers.init({ device, userId: "init@example.com" });
    expect(again.appUser._id).toBe(first.appUser._id);
  });

  it("get finds the user by _id and by a userId containing @ and +, with each kind of credential", async () => {
    const userId = "ann+e2e@example.com";
    const user = await init(withToken, userId);
    for (const client of [withToken, asApp, asUser(userId)]) {
      for (const id of [user._id, userId]) {
        const { appUser } = await client.appUsers.get(id);
        expect(appUser, `get ${id}`).toMatchObject({ _id: user._id, userId });
      }
    }
  });

  it("update is additive: omitted fields and properties keys are kept", async () => {
    const user = await init(withToken, "update@example.com");
    await withToken.appUsers.update(user._id, { givenName: "Ada", properties: { plan: "pro", seats: 3 } });
    const { appUser } = await withToken.appUsers.update("update@example.com", {
      surname: "Lovelace",
      properties: { trial: false },
    });
    const expected = { givenName: "Ada", surname: "Lovelace", properties: { plan: "pro", seats: 3, trial: false } };
    expect(appUser).toMatchObject(expected);
    expect((await withToken.appUsers.get(user._id)).appUser).toMatchObject(expected);
  });

  it("pre-create makes a user that a later init joins; pre-creating the userId again is 409", async () => {
    const userId = "precreated@example.com";
    const signedUpAt = new Date("2020-01-02T03:04:05.678Z");
    const { appUser } = await asApp.appUsers.create(userId, { givenName: "Pre", signedUpAt, properties: { source: "import" } });
    expect(appUser).toMatchObject({
      _id: expect.stringMatching(HEX_ID),
      userId,
      givenName: "Pre",
      signedUpAt: signedUpAt.toISOString(),
      properties: { source: "import" },
      conversationStarted: false,
      credentialRequired: false,
    });

    expect(await refusal(asApp.appUsers.create(userId))).toBe(409);
    expect((await init(withToken, userId))._id).toBe(appUser._id);
  });

  it("trackEvent updates the conversation only when a whisper listens to the event", async () => {
    const user = await init(withToken, "events@example.com");
    expect(await withToken.appUsers.trackEvent(user._id, "completed_sale")).toEqual({ conversationUpdated: false });

    await api("POST", "/v1/whispers", appJwt, { event: "completed_sale", text: "Thanks for your order!", name: "Shop" });
    expect(await withToken.appUsers.trackEvent(user._id, "completed_sale")).toEqual({ conversationUpdated: true });

    const { conversation } = await withToken.conversations.get(user._id);
    expect(conversation.messages).toEqual([
      expect.objectContaining({ role: "appMaker", text: "Thanks for your order!", name: "Shop" }),
    ]);
  });

  it("messages from the app user (app token, appUser JWT) and the app maker (app JWT) are kept in order", async () => {
    const userId = "chat@example.com";
    const user = await init(withToken, userId);
    await withToken.appUsers.update(userId, { givenName: "Chat", surname: "User", email: userId });
    const sends: [any, "appUser" | "appMaker", string][] = [
      [withToken, "appUser", "hello with the app token"],
      [asUser(userId), "appUser", "hello with my JWT"],
      [asApp, "appMaker", "hello from the app"],
    ];

    for (const [client, role, text] of sends) {
      const { message, conversation } = await client.conversations.sendMessage(userId, { role, text });
      expect(message).toMatchObject({ _id: expect.stringMatching(HEX_ID), role, text });
      if (role === "appUser") {
        expect(message).toMatchObject({ authorId: user._id, name: "Chat User", avatarUrl: gravatar(userId) });
      }
      expect(conversation.messages.at(-1)).toEqual(message);
    }

    const { conversation } = await asUser(userId).conversations.get(user._id);
    expect(conversation.appUsers).toEqual([user._id]);
    expect(conversation.messages.map((m: any) => [m.role, m.text])).toEqual(sends.map(([, role, text]) => [role, text]));
    const received = conversation.messages.map((m: any) => m.received);
    expect(received).toEqual([...received].sort((a, b) => a - b));
    expect(new Set(received).size).toBe(received.length);
    expect((await withToken.appUsers.get(userId)).appUser.conversationStarted).toBe(true);
  });

  it("updatePushToken and updateDevice change the user's device", async () => {
    const userId = "device@example.com";
    const deviceId = "e2e-push-device";
    await init(withToken, userId, deviceId);

    const pushed = await withToken.appUsers.updatePushToken(userId, deviceId, "apns-token-1");
    expect(pushed.device).toMatchObject({ id: deviceId, pushNotificationToken: "apns-token-1" });

    const info = { os: "iPhone OS", osVersion: "17.1" };
    const updated = await withToken.appUsers.updateDevice(userId, deviceId, { appVersion: "2.0", info });
    expect(updated.device).toEqual({
      id: deviceId,
      platform: "ios",
      appVersion: "2.0",
      pushNotificationToken: "apns-token-1",
      info,
    });
  });

  it("an appUser-scope client cannot read another user (403)", async () => {
    const mine = await init(withToken, "me@example.com");
    const other = await init(withToken, "other@example.com");
    const client = asUser("me@example.com");
    expect((await client.appUsers.get(mine._id)).appUser._id).toBe(mine._id);
    expect(await refusal(client.appUsers.get(other._id))).toBe(403);
  });
});
