import { beforeAll, describe, expect, it } from "vitest";
import { account, call, createApp, device, expectError, invalidCredentials, type TestApp } from "../support/helpers";

async function boot(app: TestApp, deviceId: string, userId?: string, platform = "ios") {
  const response = await call("POST", "/v1/init", app.token, { body: { device: device(deviceId, platform), ...(userId && { userId }) } });
  expect(response.status, JSON.stringify(response.json)).toBe(200);
  return response.json.appUser;
}

const user = (id: string) => `/v1/appusers/${encodeURIComponent(id)}`;

/** The same app-level path as an account JWT reaches it. */
const underApp = (appId: string, path: string) => path.replace(/^\/v1\//, `/v1/apps/${appId}/`);

const whisper = (app: TestApp, body: Record<string, unknown>) => call("POST", "/v1/whispers", app.server, { body });

describe("GET /v1/appusers/{appUserId|userId}", () => {
  let app: TestApp;
  let bob: any;
  beforeAll(async () => {
    app = await createApp();
    bob = await boot(app, "bobs-phone", "bob+test@example.com");
  });

  it.each([
    ["its _id", () => `/v1/appusers/${bob._id}`],
    ["its URL-encoded userId", () => `/v1/appusers/${encodeURIComponent("bob+test@example.com")}`],
    ["its userId with + and @ as they are", () => "/v1/appusers/bob+test@example.com"],
    ["a mixed-case collection name", () => `/v1/appUsers/${bob._id}`],
  ])("finds a user by %s", async (_, path) => {
    const response = await call("GET", path(), app.token);
    expect(response.status).toBe(200);
    expect(response.json.appUser).toEqual({
      _id: bob._id,
      userId: "bob+test@example.com",
      signedUpAt: bob.signedUpAt,
      properties: {},
      conversationStarted: false,
      credentialRequired: false,
    });
  });

  it("matches a userId exactly: another case is another user", async () => {
    expectError(await call("GET", user("BOB+test@example.com"), app.token), 404);
    expectError(await call("GET", user("bob test@example.com"), app.token), 404);
  });

  it("answers 404 for an unknown user", async () => {
    expectError(await call("GET", "/v1/appusers/000000000000000000000000", app.token), 404);
  });
});

describe("PUT /v1/appusers/{id}", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createApp();
  });

  it("updates only the fields and properties keys it is given", async () => {
    const { _id } = await boot(app, "additive", "additive@example.com");
    const first = await call("PUT", user(_id), app.token, {
      body: { givenName: "Steve", email: "steve@example.com", properties: { plan: "free", seats: 1, trial: true } },
    });
    expect(first.status).toBe(200);
    expect(first.json.appUser).toMatchObject({ givenName: "Steve", email: "steve@example.com" });

    const second = await call("PUT", user("additive@example.com"), app.token, {
      body: { surname: "Brule", signedUpAt: "2015-10-08T23:52:11.677Z", properties: { plan: "gold", favoriteFood: "prizza" } },
    });
    expect(second.json.appUser).toEqual({
      _id,
      userId: "additive@example.com",
      givenName: "Steve",
      surname: "Brule",
      email: "steve@example.com",
      signedUpAt: "2015-10-08T23:52:11.677Z",
      properties: { plan: "gold", seats: 1, trial: true, favoriteFood: "prizza" },
      conversationStarted: false,
      credentialRequired: false,
    });

    const empty = await call("PUT", user(_id), app.token, { body: {} });
    expect(empty.json.appUser).toEqual(second.json.appUser);
    expect((await call("GET", user(_id), app.token)).json.appUser).toEqual(second.json.appUser);
  });

  it("keeps both of two concurrent updates of different properties", async () => {
    const { _id } = await boot(app, "concurrent-props");
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => call("PUT", user(_id), app.token, { body: { properties: { [`k${i}`]: i } } })),
    );
    const { properties } = (await call("GET", user(_id), app.token)).json.appUser;
    expect(properties).toEqual(Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, i])));
  });

  it.each([
    ["a signedUpAt that is not a date", { signedUpAt: "yesterday" }, "signedUpAt"],
    ["a signedUpAt in another format", { signedUpAt: "10/08/2015 23:52" }, "signedUpAt"],
    ["a signedUpAt with an impossible month", { signedUpAt: "2015-13-08T23:52:11.677Z" }, "signedUpAt"],
    ["a numeric signedUpAt", { signedUpAt: 1444348331677 }, "signedUpAt"],
    ["nested properties", { properties: { address: { city: "Montreal" } } }, "properties"],
    ["a property that is an array", { properties: { tags: ["a"] } }, "properties"],
    ["a null property", { properties: { gone: null } }, "properties"],
    ["properties that are not an object", { properties: "plan=gold" }, "properties"],
    ["properties over 4 KB", { properties: { blob: "x".repeat(4100) } }, "properties"],
    ["a numeric givenName", { givenName: 42 }, "givenName"],
    ["a null surname", { surname: null }, "surname"],
    ["an email that is not a string", { email: ["a@b.c"] }, "email"],
  ])("refuses %s with a 400 naming the field and changes nothing", async (_, body, field) => {
    const { _id } = await boot(app, `bad-${field}-${JSON.stringify(body).length}`);
    await call("PUT", user(_id), app.token, { body: { givenName: "Kept", properties: { kept: true } } });
    expectError(await call("PUT", user(_id), app.token, { body }), 400, field);
    expect((await call("GET", user(_id), app.token)).json.appUser).toMatchObject({ givenName: "Kept", properties: { kept: true } });
  });

  it("refuses updates whose properties would together exceed 4 KB", async () => {
    const { _id } = await boot(app, "growing");
    expect((await call("PUT", user(_id), app.token, { body: { properties: { a: "x".repeat(3000) } } })).status).toBe(200);
    expectError(await call("PUT", user(_id), app.token, { body: { properties: { b: "y".repeat(3000) } } }), 400, "properties");
    // Replacing a key with a value of the same size is still fine.
    expect((await call("PUT", user(_id), app.token, { body: { properties: { a: "z".repeat(3000) } } })).status).toBe(200);
    expect(Object.keys((await call("GET", user(_id), app.token)).json.appUser.properties)).toEqual(["a"]);
  });

  it("refuses malformed JSON with a 400", async () => {
    const { _id } = await boot(app, "malformed");
    expectError(await call("PUT", user(_id), { ...app.token, "content-type": "application/json" }, { raw: "{givenName:" }), 400);
  });
});

describe("POST /v1/appusers (pre-create)", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createApp();
  });

  it("creates a user with the contract's defaults", async () => {
    const response = await call("POST", "/v1/appusers", app.server, {
      body: { userId: "steveb@channel5.com", givenName: "Steve", properties: { favoriteFood: "prizza" } },
    });
    expect(response.status).toBe(201);
    expect(response.json.appUser).toEqual({
      _id: expect.stringMatching(/^[0-9a-f]{24}$/),
      userId: "steveb@channel5.com",
      givenName: "Steve",
      signedUpAt: expect.any(String),
      properties: { favoriteFood: "prizza" },
      conversationStarted: false,
      credentialRequired: false,
    });
    expect((await call("GET", user("steveb@channel5.com"), app.token)).json.appUser).toEqual(response.json.appUser);
  });

  it("takes every documented field", async () => {
    const body = {
      userId: "full@example.com",
      credentialRequired: true,
      givenName: "Full",
      surname: "Fields",
      email: "full@example.com",
      signedUpAt: "2015-10-08T23:52:11.677Z",
      properties: { a: 1 },
    };
    const response = await call("POST", "/v1/appusers", app.server, { body });
    expect(response.status).toBe(201);
    expect(response.json.appUser).toEqual({ ...body, _id: expect.any(String), conversationStarted: false });
  });

  it("makes a credentialRequired user refuse the app token and accept its own JWT", async () => {
    await call("POST", "/v1/appusers", app.server, { body: { userId: "locked", credentialRequired: true } });
    expectError(await call("GET", user("locked"), app.token), 401);
    expect((await call("GET", user("locked"), await app.user("locked"))).status).toBe(200);
    expect((await call("GET", user("locked"), app.server)).status).toBe(200);
    expectError(await call("GET", user("locked"), await app.user("someone-else")), 403);
  });

  it("answers 409 for a userId that already exists, by pre-create or by init", async () => {
    await call("POST", "/v1/appusers", app.server, { body: { userId: "twice" } });
    expectError(await call("POST", "/v1/appusers", app.server, { body: { userId: "twice", givenName: "Again" } }), 409);
    expect((await call("GET", user("twice"), app.token)).json.appUser.givenName).toBeUndefined();

    await boot(app, "d", "booted");
    expectError(await call("POST", "/v1/appusers", app.server, { body: { userId: "booted" } }), 409);
  });

  it("creates one user and answers 409 to the rest when the same userId is pre-created concurrently", async () => {
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => call("POST", "/v1/appusers", app.server, { body: { userId: "racing" } })),
    );
    expect(responses.map((r) => r.status).sort()).toEqual([201, ...Array(9).fill(409)]);
  });

  it.each([
    ["no userId", { givenName: "Nobody" }, "userId"],
    ["an empty userId", { userId: "" }, "userId"],
    ["a numeric userId", { userId: 7 }, "userId"],
    ["a credentialRequired that is not a boolean", { userId: "u", credentialRequired: "yes" }, "credentialRequired"],
    ["a bad signedUpAt", { userId: "u", signedUpAt: "2015-10-08 at noon" }, "signedUpAt"],
    ["nested properties", { userId: "u", properties: { a: { b: 1 } } }, "properties"],
  ])("refuses %s with a 400 naming the field", async (_, body, field) => {
    expectError(await call("POST", "/v1/appusers", app.server, { body }), 400, field);
  });

  it("accepts an account JWT under /v1/apps/{appId}", async () => {
    const response = await call("POST", `/v1/apps/${app.appId}/appusers`, await account(), { body: { userId: "by-account" } });
    expect(response.status).toBe(201);
  });

  it.each([
    ["the app token", (a: TestApp) => a.token],
    ["an appUser JWT", (a: TestApp) => a.user("wannabe")],
  ])("refuses %s with a 403: pre-create needs an app-scope JWT", async (_, auth) => {
    expectError(await call("POST", "/v1/appusers", await auth(app), { body: { userId: "wannabe" } }), 403);
    expectError(await call("GET", user("wannabe"), app.server), 404);
  });

  it("refuses credentials that identify no one with a 401", async () => {
    for (const [name, auth] of await invalidCredentials(app)) {
      const response = await call("POST", "/v1/appusers", auth, { body: { userId: "nobody" } });
      expect(response.status, name).toBe(401);
    }
    expectError(await call("GET", user("nobody"), app.server), 404);
  });

  it("refuses an account JWT outside /v1/apps/{appId}", async () => {
    expectError(await call("POST", "/v1/appusers", await account(), { body: { userId: "x" } }), 403);
  });
});

describe("POST /v1/appusers/{id}/events", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createApp();
  });

  const track = (id: string, body: unknown, auth = app.token) => call("POST", `${user(id)}/events`, auth, { body });

  it("answers conversationUpdated false when no whisper listens to the event", async () => {
    const { _id } = await boot(app, "quiet");
    const response = await track(_id, { name: "nothing_listens" });
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ conversationUpdated: false });
    expect((await call("GET", user(_id), app.token)).json.appUser.conversationStarted).toBe(false);
  });

  it("posts each whisper for the event as an appMaker message and answers conversationUpdated true", async () => {
    const thanks = { event: "completed_sale", text: "Thanks for your order!", name: "Sales", avatarUrl: "https://example.com/sales.png" };
    const survey = { event: "completed_sale", text: "How did we do?" };
    for (const body of [thanks, survey, { event: "other_event", text: "not for this one" }]) {
      expect((await whisper(app, body)).status).toBe(201);
    }
    const { _id } = await boot(app, "buyer", "buyer@example.com");

    const response = await track("buyer@example.com", { name: "completed_sale" });
    expect(response.json).toEqual({ conversationUpdated: true });

    const messages = (await call("GET", `${user(_id)}/conversation`, app.token)).json.conversation.messages;
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatchObject({ role: "appMaker", text: thanks.text, name: "Sales", avatarUrl: thanks.avatarUrl });
    expect(messages[1]).toMatchObject({ role: "appMaker", text: survey.text });
    expect(messages[1].received).toBeGreaterThan(messages[0].received);
    expect((await call("GET", user(_id), app.token)).json.appUser.conversationStarted).toBe(true);
  });

  it("updates the user from the appUser that smooch-core sends with the event", async () => {
    const { _id } = await boot(app, "core-client");
    const response = await track(_id, { name: "signed_up", appUser: { givenName: "Core", properties: { via: "smooch-core" } } });
    expect(response.json).toEqual({ conversationUpdated: false });
    expect((await call("GET", user(_id), app.token)).json.appUser).toMatchObject({
      givenName: "Core",
      properties: { via: "smooch-core" },
    });
  });

  it.each([
    ["no name", {}, "name"],
    ["an empty name", { name: "" }, "name"],
    ["a numeric name", { name: 3 }, "name"],
    ["an appUser with nested properties", { name: "e", appUser: { properties: { a: { b: 1 } } } }, "appUser.properties"],
    ["an appUser with a bad signedUpAt", { name: "e", appUser: { signedUpAt: "soon" } }, "appUser.signedUpAt"],
  ])("refuses %s with a 400 naming the field", async (_, body, field) => {
    const { _id } = await boot(app, `bad-event-${field}`);
    expectError(await track(_id, body), 400, field);
  });
});

describe("devices of an app user", () => {
  let app: TestApp;
  let owner: any;
  let stranger: any;
  beforeAll(async () => {
    app = await createApp();
    owner = await boot(app, "owner-phone", "owner");
    stranger = await boot(app, "stranger-phone", "stranger");
  });

  const devicePath = (id: string, deviceId: string) => `${user(id)}/devices/${encodeURIComponent(deviceId)}`;

  it("updates a device linked to the user and keeps what it is not given", async () => {
    await call("POST", "/v1/init", app.token, {
      body: { device: { id: "tablet", platform: "android", appVersion: "1.0", info: { os: "Android", carrier: "Acme" } }, userId: "owner" },
    });
    const response = await call("PUT", devicePath(owner._id, "tablet"), app.token, {
      body: { appVersion: "2.0", pushNotificationToken: "gcm-1", info: { carrier: "Other" } },
    });
    expect(response.status).toBe(200);
    expect(response.json.device).toEqual({
      id: "tablet",
      platform: "android",
      appVersion: "2.0",
      pushNotificationToken: "gcm-1",
      info: { os: "Android", carrier: "Other" },
    });
    const platform = await call("PUT", devicePath("owner", "tablet"), app.token, { body: { platform: "other" } });
    expect(platform.json.device).toMatchObject({ platform: "other", appVersion: "2.0" });
  });

  it("lets every user who signed in on a shared device update it", async () => {
    await boot(app, "shared", "owner");
    await boot(app, "shared", "stranger");
    for (const id of [owner._id, stranger._id]) {
      expect((await call("PUT", devicePath(id, "shared"), app.token, { body: { appVersion: id } })).status).toBe(200);
    }
  });

  it.each([
    ["an unknown device", "no-such-device"],
    ["another user's device", "stranger-phone"],
  ])("answers 404 for %s", async (_, deviceId) => {
    expectError(await call("PUT", devicePath(owner._id, deviceId), app.token, { body: { appVersion: "3" } }), 404);
    expectError(
      await call("POST", `${user(owner._id)}/pushToken`, app.token, { body: { deviceId, token: "t" } }),
      404,
    );
  });

  it("answers 404 for a device of the same id in another app", async () => {
    const other = await createApp();
    await boot(other, "only-in-other", "owner");
    expectError(await call("PUT", devicePath(owner._id, "only-in-other"), app.token, { body: { appVersion: "3" } }), 404);
  });

  it.each([
    ["an unknown platform", { platform: "windows" }, "platform"],
    ["nested info", { info: { screen: { w: 1 } } }, "info"],
    ["a numeric appVersion", { appVersion: 2 }, "appVersion"],
    ["a numeric pushNotificationToken", { pushNotificationToken: 5 }, "pushNotificationToken"],
  ])("refuses %s with a 400 naming the field", async (_, body, field) => {
    expectError(await call("PUT", devicePath(owner._id, "owner-phone"), app.token, { body }), 400, field);
  });

  it("stores a push token for a device of the user", async () => {
    const response = await call("POST", `${user(owner._id)}/pushToken`, app.token, { body: { deviceId: "owner-phone", token: "apn-123" } });
    expect(response.status).toBe(200);
    expect(response.json.device).toMatchObject({ id: "owner-phone", platform: "ios", pushNotificationToken: "apn-123" });
    const lowercase = await call("POST", `${user("owner")}/pushtoken`, app.token, { body: { deviceId: "owner-phone", token: "apn-456" } });
    expect(lowercase.json.device.pushNotificationToken).toBe("apn-456");
  });

  it.each([
    ["no token", { deviceId: "owner-phone" }, "token"],
    ["an empty token", { deviceId: "owner-phone", token: "" }, "token"],
    ["no deviceId", { token: "t" }, "deviceId"],
    ["a numeric token", { deviceId: "owner-phone", token: 1 }, "token"],
  ])("refuses a push token with %s (400 naming the field)", async (_, body, field) => {
    expectError(await call("POST", `${user(owner._id)}/pushToken`, app.token, { body }), 400, field);
  });
});

describe("who may call the app user endpoints", () => {
  let app: TestApp;
  let other: TestApp;
  let owner: any;
  beforeAll(async () => {
    app = await createApp();
    other = await createApp();
    owner = await boot(app, "owner-device", "owner@example.com");
    await call("POST", "/v1/appusers", app.server, { body: { userId: "locked@example.com", credentialRequired: true } });
    await call("POST", "/v1/init", await app.user("locked@example.com"), { body: { device: device("locked-device") } });
  });

  const endpoints: Array<[string, string, (id: string) => string, unknown]> = [
    ["get", "GET", (id) => user(id), undefined],
    ["update", "PUT", (id) => user(id), { givenName: "X" }],
    ["track event", "POST", (id) => `${user(id)}/events`, { name: "e" }],
    ["update device", "PUT", (id) => `${user(id)}/devices/${id.startsWith("locked") ? "locked" : "owner"}-device`, { appVersion: "1" }],
    ["push token", "POST", (id) => `${user(id)}/pushToken`, { deviceId: "owner-device", token: "t" }],
  ];

  it.each(endpoints)("%s: the app token, an app JWT, the user's own JWT and the account under its app", async (_, method, path, body) => {
    const callers = [app.token, app.server, await app.user("owner@example.com")];
    for (const auth of callers) {
      const response = await call(method, path("owner@example.com"), auth, { body });
      expect(response.status, JSON.stringify(response.json)).toBe(200);
    }
    const viaAccount = await call(method, underApp(app.appId, path("owner@example.com")), await account(), { body });
    expect(viaAccount.status, JSON.stringify(viaAccount.json)).toBe(200);
  });

  it.each(endpoints)("%s: 401 for credentials that identify no one", async (_, method, path, body) => {
    for (const [name, auth] of await invalidCredentials(app, { scope: "appUser", userId: "owner@example.com" })) {
      const response = await call(method, path(owner._id), auth, { body });
      expect(response.status, name).toBe(401);
      expect(response.json.error.code, name).toBe("unauthorized");
    }
  });

  it.each(endpoints)("%s: 403 for another user's JWT or an account JWT outside its app", async (_, method, path, body) => {
    expectError(await call(method, path(owner._id), await app.user("someone@example.com"), { body }), 403);
    expectError(await call(method, path(owner._id), await account(), { body }), 403);
  });

  it.each(endpoints)("%s: 404 for another app's credentials (403 for its appUser JWTs, as for any other user)", async (_, method, path, body) => {
    for (const auth of [other.token, other.server]) {
      expectError(await call(method, path(owner._id), auth, { body }), 404);
    }
    expectError(await call(method, path(owner._id), await other.user("owner@example.com"), { body }), 403);
    expectError(await call(method, underApp(other.appId, path(owner._id)), await account(), { body }), 404);
  });

  it.each(endpoints)("%s: 401 with the app token for a user that requires a JWT", async (_, method, path, body) => {
    const lockedBody = method === "POST" && path("x").endsWith("pushToken") ? { deviceId: "locked-device", token: "t" } : body;
    expectError(await call(method, path("locked@example.com"), app.token, { body: lockedBody }), 401);
    const own = await call(method, path("locked@example.com"), await app.user("locked@example.com"), { body: lockedBody });
    expect(own.status, JSON.stringify(own.json)).toBe(200);
  });

  it("refuses the user's JWT for an anonymous user, who has no userId to match", async () => {
    const anonymous = await boot(app, "anonymous-device");
    expectError(await call("GET", user(anonymous._id), await app.user("owner@example.com")), 403);
  });
});
