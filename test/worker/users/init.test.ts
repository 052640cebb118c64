import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { account, call, createApp, device, expectError, invalidCredentials, type TestApp } from "../support/helpers";

const init = (auth: Record<string, string>, body: unknown, path = "/v1/init") => call("POST", path, auth, { body });

/** The device's active user as D1 records it: push notifications go to this one user only. */
async function activeUserOf(app: TestApp, deviceId: string): Promise<string | null> {
  const row = await env.DB.prepare("SELECT active_app_user_id AS id FROM devices WHERE app_id = ? AND id = ?")
    .bind(app.appId, deviceId)
    .first<{ id: string | null }>();
  return row?.id ?? null;
}

async function appUserCount(app: TestApp): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM app_users WHERE app_id = ?").bind(app.appId).first<{ n: number }>();
  return row?.n ?? 0;
}

describe("POST /v1/init", () => {
  it("creates an anonymous user for a new device and returns the same one for that device again", async () => {
    const app = await createApp();
    const first = await init(app.token, { device: device("anon-1") });
    expect(first.status).toBe(200);
    expect(first.json.appUser._id).toMatch(/^[0-9a-f]{24}$/);
    expect(first.json.appUser.userId).toBeUndefined();
    expect(first.json.appUser.properties).toEqual({});
    expect(new Date(first.json.appUser.signedUpAt).toISOString()).toBe(first.json.appUser.signedUpAt);

    const again = await init(app.token, { device: { ...device("anon-1"), appVersion: "2.0" } });
    expect(again.json.appUser._id).toBe(first.json.appUser._id);

    const other = await init(app.token, { device: device("anon-2") });
    expect(other.json.appUser._id).not.toBe(first.json.appUser._id);
  });

  it("creates a user for a new userId and links later devices to it", async () => {
    const app = await createApp();
    const created = await init(app.token, { device: device("phone"), userId: "bob@example.com" });
    expect(created.status).toBe(200);
    expect(created.json.appUser).toMatchObject({ userId: "bob@example.com", properties: {} });

    const linked = await init(app.token, { device: device("laptop", "web"), userId: "bob@example.com" });
    expect(linked.json.appUser._id).toBe(created.json.appUser._id);
    expect(await activeUserOf(app, "laptop")).toBe(created.json.appUser._id);
  });

  it("links a device to a pre-created user with the same userId", async () => {
    const app = await createApp();
    const pre = await call("POST", "/v1/appusers", app.server, { body: { userId: "pre@example.com", givenName: "Pre" } });
    const boot = await init(app.token, { device: device("d"), userId: "pre@example.com" });
    expect(boot.json.appUser).toMatchObject({ _id: pre.json.appUser._id, givenName: "Pre" });
  });

  it("describes the app from the settings it was created with", async () => {
    const app = await createApp("pushy", { iconUrl: "https://example.com/icon.png", apnEnabled: true, gcmProject: "123" });
    const boot = await init(app.token, { device: device("d") });
    expect(boot.json.app).toMatchObject({ hasIcon: true, apnEnabled: true, gcmProject: "123", name: "pushy", iconUrl: "https://example.com/icon.png" });
  });

  it("describes an app without settings as having no icon, no APN and no GCM project", async () => {
    const app = await createApp("plain");
    const boot = await init(app.token, { device: device("d") });
    expect(boot.json.app).toEqual({
      hasIcon: false,
      apnEnabled: false,
      gcmProject: null,
      name: "plain",
      settings: { web: { channels: {} } },
      integrations: [],
    });
  });

  it("gives the web messengers what their init reads: settings.web with channels, integrations, the look from the settings", async () => {
    const look = {
      displayStyle: "button",
      accentColor: "0099ff",
      brandColor: "333333",
      linkColor: "0066cc",
      buttonIconUrl: "https://example.com/button.png",
    };
    // Settings the messenger does not read stay private to the account API.
    const app = await createApp("styled", { ...look, iconUrl: "https://example.com/icon.png", secretNote: "internal", accentColorCount: 3 });
    const boot = await init(app.token, { device: device("browser", "web") });
    expect(boot.status, JSON.stringify(boot.json)).toBe(200);
    expect(boot.json.app).toEqual({
      hasIcon: true,
      apnEnabled: false,
      gcmProject: null,
      name: "styled",
      iconUrl: "https://example.com/icon.png",
      settings: { web: { channels: {}, ...look } },
      integrations: [],
    });
    expect(boot.json.app).not.toHaveProperty("publicKeys");
  });

  it("leaves out a look setting that is not a string", async () => {
    const app = await createApp("odd", { accentColor: 7, brandColor: "" });
    const boot = await init(app.token, { device: device("d") });
    expect(boot.json.app.settings).toEqual({ web: { channels: {} } });
  });

  it("gives each userId on a shared device its own user, the latest one active", async () => {
    const app = await createApp();
    const alice = await init(app.token, { device: device("shared"), userId: "alice" });
    const bob = await init(app.token, { device: device("shared"), userId: "bob" });
    expect(bob.json.appUser._id).not.toBe(alice.json.appUser._id);
    expect(bob.json.appUser.userId).toBe("bob");
    expect(await activeUserOf(app, "shared")).toBe(bob.json.appUser._id);

    const aliceAgain = await init(app.token, { device: device("shared"), userId: "alice" });
    expect(aliceAgain.json.appUser._id).toBe(alice.json.appUser._id);
    expect(await activeUserOf(app, "shared")).toBe(alice.json.appUser._id);
  });

  it("accepts every documented device field", async () => {
    const app = await createApp();
    const full = {
      id: "full",
      platform: "android",
      appVersion: "8.0",
      pushNotificationToken: "gcm-token",
      info: { appName: "foo", deviceModel: "Pixel", osVersion: "14", wifi: true, screenWidth: 1080 },
    };
    const boot = await init(app.token, { device: full, userId: "full@example.com" });
    expect(boot.status, JSON.stringify(boot.json)).toBe(200);
    // The device is readable back through the device update route, which echoes it.
    const echoed = await call("PUT", `/v1/appusers/${boot.json.appUser._id}/devices/full`, app.token, { body: {} });
    expect(echoed.json.device).toEqual(full);
  });

  it("applies profile fields sent with init to the user, additively", async () => {
    const app = await createApp();
    const first = await init(app.token, {
      device: device("profiled"),
      userId: "profiled@example.com",
      givenName: "Ann",
      email: "ann@example.com",
      properties: { plan: "free" },
    });
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    expect(first.json.appUser).toMatchObject({ givenName: "Ann", email: "ann@example.com", properties: { plan: "free" } });
    const second = await init(app.token, { device: device("profiled"), userId: "profiled@example.com", properties: { seats: 3 } });
    expect(second.json.appUser).toMatchObject({ givenName: "Ann", properties: { plan: "free", seats: 3 } });
    expectError(await init(app.token, { device: device("profiled"), givenName: 7 }), 400, "givenName");
  });

  it("merges reported device info, but never past 4 KB: then the latest report replaces it", async () => {
    const app = await createApp();
    const report = (key: string) => ({ device: { ...device("growing"), info: { [key]: "x".repeat(3000) } } });
    const first = await init(app.token, report("a"));
    await init(app.token, report("b"));
    const echoed = await call("PUT", `/v1/appusers/${first.json.appUser._id}/devices/growing`, app.token, { body: {} });
    expect(Object.keys(echoed.json.device.info)).toEqual(["b"]);
    const small = await call("PUT", `/v1/appusers/${first.json.appUser._id}/devices/growing`, app.token, {
      body: { info: { c: "small" } },
    });
    expect(Object.keys(small.json.device.info).sort()).toEqual(["b", "c"]);
  });

  it.each(["ios", "android", "web", "other"])("accepts the %s platform", async (platform) => {
    const app = await createApp();
    expect((await init(app.token, { device: device(`p-${platform}`, platform) })).status).toBe(200);
  });

  it.each([
    ["no device", {}, "device"],
    ["a device that is not an object", { device: "abc" }, "device"],
    ["a device without id", { device: { platform: "ios" } }, "device.id"],
    ["an empty device id", { device: { id: "", platform: "ios" } }, "device.id"],
    ["a device without platform", { device: { id: "d" } }, "device.platform"],
    ["an unknown platform", { device: { id: "d", platform: "windows" } }, "device.platform"],
    ["nested device info", { device: { ...device("d"), info: { screen: { width: 1 } } } }, "device.info"],
    ["device info that is an array", { device: { ...device("d"), info: ["a"] } }, "device.info"],
    ["device info over 4 KB", { device: { ...device("d"), info: { blob: "x".repeat(5000) } } }, "device.info"],
    ["a numeric appVersion", { device: { ...device("d"), appVersion: 8 } }, "device.appVersion"],
    ["a numeric userId", { device: device("d"), userId: 42 }, "userId"],
    ["a userId over 256 characters", { device: device("d"), userId: "u".repeat(257) }, "userId"],
  ])("refuses %s with a 400 naming the field", async (_, body, field) => {
    const app = await createApp();
    expectError(await init(app.token, body), 400, field);
    expect(await appUserCount(app)).toBe(0);
  });

  it("treats an empty userId as none, as the Smooch web messengers send it for anonymous visitors", async () => {
    const app = await createApp();
    const first = await init(app.token, { device: device("widget", "web"), userId: "" });
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    expect(first.json.appUser.userId).toBeUndefined();
    const again = await init(app.token, { device: device("widget", "web"), userId: "" });
    expect(again.json.appUser._id).toBe(first.json.appUser._id);
    expect(await appUserCount(app)).toBe(1);
  });

  it("refuses malformed JSON with a 400", async () => {
    const app = await createApp();
    const response = await call("POST", "/v1/init", { ...app.token, "content-type": "application/json" }, { raw: "{device:" });
    expectError(response, 400);
  });

  it("signs in the userId of an appUser JWT", async () => {
    const app = await createApp();
    const boot = await init(await app.user("jwt-user@example.com"), { device: device("d") });
    expect(boot.status).toBe(200);
    expect(boot.json.appUser.userId).toBe("jwt-user@example.com");

    const same = await init(await app.user("jwt-user@example.com"), { device: device("d2"), userId: "jwt-user@example.com" });
    expect(same.json.appUser._id).toBe(boot.json.appUser._id);
  });

  it("refuses an appUser JWT that asks for another userId", async () => {
    const app = await createApp();
    expectError(await init(await app.user("mallory"), { device: device("d"), userId: "alice" }), 403);
    expect(await appUserCount(app)).toBe(0);
  });

  it("refuses the app token for a user that requires a JWT, and accepts the JWT", async () => {
    const app = await createApp();
    await call("POST", "/v1/appusers", app.server, { body: { userId: "secure", credentialRequired: true } });
    expectError(await init(app.token, { device: device("d"), userId: "secure" }), 401);
    expect((await init(await app.user("secure"), { device: device("d") })).json.appUser.userId).toBe("secure");
  });

  it("accepts an app-scope JWT, and an account JWT under /v1/apps/{appId}", async () => {
    const app = await createApp();
    const viaApp = await init(app.server, { device: device("d"), userId: "u" });
    const viaAccount = await init(await account(), { device: device("d"), userId: "u" }, `/v1/apps/${app.appId}/init`);
    expect(viaApp.status).toBe(200);
    expect(viaAccount.json.appUser._id).toBe(viaApp.json.appUser._id);
  });

  it("refuses credentials that identify no one with a 401", async () => {
    const app = await createApp();
    for (const [name, auth] of await invalidCredentials(app)) {
      const response = await init(auth, { device: device("d") });
      expectError(response, 401);
      expect(response.headers.get("www-authenticate"), name).toBeTruthy();
    }
    expect(await appUserCount(app)).toBe(0);
  });

  it("refuses an account JWT outside /v1/apps/{appId} (403) and another app's path (404)", async () => {
    const [app, other] = [await createApp(), await createApp()];
    expectError(await init(await account(), { device: device("d") }), 403);
    expectError(await init(app.token, { device: device("d") }, `/v1/apps/${other.appId}/init`), 404);
    expect(await appUserCount(other)).toBe(0);
  });

  it("keeps each app's devices and users apart", async () => {
    const [a, b] = [await createApp(), await createApp()];
    const inA = await init(a.token, { device: device("same-device"), userId: "same-user" });
    const inB = await init(b.token, { device: device("same-device"), userId: "same-user" });
    expect(inB.json.appUser._id).not.toBe(inA.json.appUser._id);
    expectError(await call("GET", `/v1/appusers/${inA.json.appUser._id}`, b.token), 404);
  });

  it("never creates two users for one userId under concurrent inits", async () => {
    const app = await createApp();
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => init(app.token, { device: device(`race-${i}`), userId: "racer@example.com" })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(new Set(responses.map((r) => r.json.appUser._id)).size).toBe(1);
    expect(await appUserCount(app)).toBe(1);
  });

  it("gives concurrent anonymous inits from one device a single user", async () => {
    const app = await createApp();
    const responses = await Promise.all(Array.from({ length: 20 }, () => init(app.token, { device: device("one-device") })));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    const ids = new Set(responses.map((r) => r.json.appUser._id));
    expect(ids.size).toBe(1);
    expect(await appUserCount(app)).toBe(1);
    expect(await activeUserOf(app, "one-device")).toBe([...ids][0]);
  });
});
