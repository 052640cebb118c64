import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, createApp, hexId, type TestApp } from "../support/helpers";

// Issue 11, item 1: an app token cannot take over a device a credentialRequired user has claimed.

const init = (auth: Record<string, string>, body: Record<string, unknown>) => call("POST", "/v1/init", auth, { body });

async function deviceRow(app: TestApp, deviceId: string) {
  return env.DB.prepare(
    "SELECT platform, app_version, push_notification_token, info, active_app_user_id FROM devices WHERE app_id = ? AND id = ?",
  )
    .bind(app.appId, deviceId)
    .first();
}

async function linkedUsers(app: TestApp, deviceId: string) {
  const { results } = await env.DB.prepare("SELECT app_user_id FROM device_users WHERE app_id = ? AND device_id = ? ORDER BY app_user_id")
    .bind(app.appId, deviceId)
    .all<{ app_user_id: string }>();
  return results.map((r) => r.app_user_id);
}

async function texts(app: TestApp, appUserId: string): Promise<string[]> {
  const response = await call("GET", `/v1/appusers/${appUserId}/conversation`, app.server);
  return response.status === 404 ? [] : response.json.conversation.messages.map((m: { text: string }) => m.text);
}

/** A credentialRequired user who has signed in with its JWT on `deviceId`. */
async function protectedUserOn(app: TestApp, deviceId: string) {
  const userId = `pat-${hexId()}@example.com`;
  const created = await call("POST", "/v1/appusers", app.server, {
    body: { userId, credentialRequired: true, givenName: "Pat", properties: { tier: "gold" } },
  });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  const jwt = await app.user(userId);
  const signedIn = await init(jwt, {
    device: { id: deviceId, platform: "ios", pushNotificationToken: "pat-push", appVersion: "1.0", info: { owner: "pat" } },
    userId,
  });
  expect(signedIn.status, JSON.stringify(signedIn.json)).toBe(200);
  await call("POST", `/v1/appusers/${userId}/messages`, jwt, { body: { text: "pat's own", role: "appUser" } });
  return { id: created.json.appUser._id as string, userId, jwt };
}

const evilDevice = (id: string) => ({ id, platform: "android", pushNotificationToken: "evil-push", appVersion: "6.6.6", info: { evil: true } });

describe("an app token on a device a credentialRequired user has claimed", () => {
  it("gets a fresh anonymous user and leaves the protected user's device, profile and conversation untouched", async () => {
    const app = await createApp("takeover");
    const pat = await protectedUserOn(app, "pat-phone");
    const deviceBefore = await deviceRow(app, "pat-phone");

    const attack = await init(app.token, { device: evilDevice("pat-phone"), givenName: "Mallory", properties: { evil: 1 } });
    expect(attack.status, JSON.stringify(attack.json)).toBe(200);
    const mallory = attack.json.appUser;
    expect(mallory._id).not.toBe(pat.id);
    expect(mallory.userId).toBeUndefined();
    expect(mallory.credentialRequired).toBe(false);
    expect(await deviceRow(app, "pat-phone")).toEqual(deviceBefore);
    expect(await linkedUsers(app, "pat-phone")).toEqual([pat.id]);

    // The same device id keeps its one anonymous user, as a logged-out widget there needs.
    expect((await init(app.token, { device: evilDevice("pat-phone") })).json.appUser._id).toBe(mallory._id);

    const posted = await call("POST", `/v1/appusers/${mallory._id}/messages`, app.token, { body: { text: "evil", role: "appUser" } });
    expect(posted.status).toBe(201);
    await call("PUT", `/v1/appusers/${mallory._id}`, app.token, { body: { surname: "Evil", email: "evil@example.com", properties: { evil: 2 } } });

    // Pat signs in again on the device: nothing of the anonymous user there is merged.
    const back = await init(pat.jwt, { device: { id: "pat-phone", platform: "ios" }, userId: pat.userId });
    expect(back.status).toBe(200);
    expect(back.json.appUser).toMatchObject({ _id: pat.id, givenName: "Pat", properties: { tier: "gold" } });
    expect(back.json.appUser.surname).toBeUndefined();
    expect(back.json.appUser.email).toBeUndefined();
    expect(await texts(app, pat.id)).toEqual(["pat's own"]);
    expect(await texts(app, mallory._id)).toEqual(["evil"]);
    const resolved = await call("GET", `/v1/appusers/${mallory._id}`, app.server);
    expect(resolved.json.appUser._id).toBe(mallory._id);
  });

  it("answers the fresh anonymous user's device update as for its own device, changing nothing of the protected one (issue 22)", async () => {
    const app = await createApp("takeover device update");
    await protectedUserOn(app, "pat-laptop");
    const deviceBefore = await deviceRow(app, "pat-laptop");
    const visitor = (await init(app.token, { device: { id: "pat-laptop", platform: "web" } })).json.appUser;
    // What the official web messenger sends after init.
    const updated = await call("PUT", `/v1/appusers/${visitor._id}/devices/pat-laptop`, app.token, {
      body: { platform: "web", appVersion: "3.9.3", info: { browserName: "Chrome" } },
    });
    expect(updated.status, JSON.stringify(updated.json)).toBe(200);
    expect(updated.json.device).toEqual({ id: "pat-laptop", platform: "web", appVersion: "3.9.3", info: { browserName: "Chrome" } });
    expect(await deviceRow(app, "pat-laptop")).toEqual(deviceBefore);
    // Another user, and a device that has no anonymous user of its own, are still 404.
    const stranger = (await init(app.token, { device: { id: `other-${hexId()}`, platform: "web" } })).json.appUser;
    expect((await call("PUT", `/v1/appusers/${stranger._id}/devices/pat-laptop`, app.token, { body: { appVersion: "1" } })).status).toBe(404);
  });

  it("does not touch the device when the app token signs in another (unprotected) userId there", async () => {
    const app = await createApp("takeover by userId");
    const pat = await protectedUserOn(app, "pat-tablet");
    const deviceBefore = await deviceRow(app, "pat-tablet");
    const other = await init(app.token, { device: evilDevice("pat-tablet"), userId: `eve-${hexId()}` });
    expect(other.status).toBe(200);
    expect(other.json.appUser._id).not.toBe(pat.id);
    expect(await deviceRow(app, "pat-tablet")).toEqual(deviceBefore);
    expect(await linkedUsers(app, "pat-tablet")).toEqual([pat.id]);
  });

  it("still merges an anonymous user created on the device before any protected user claimed it", async () => {
    const app = await createApp("legit merge");
    const anon = (await init(app.token, { device: { id: "kiosk", platform: "web" } })).json.appUser;
    await call("POST", `/v1/appusers/${anon._id}/messages`, app.token, { body: { text: "before sign-in", role: "appUser" } });
    const userId = `sam-${hexId()}`;
    await call("POST", "/v1/appusers", app.server, { body: { userId, credentialRequired: true } });
    const signedIn = await init(await app.user(userId), { device: { id: "kiosk", platform: "web" }, userId });
    expect(await texts(app, signedIn.json.appUser._id)).toEqual(["before sign-in"]);
  });

  it("lets another user's JWT sign in on the device as before (the business vouches for it)", async () => {
    const app = await createApp("shared device");
    const pat = await protectedUserOn(app, "family-ipad");
    const userId = `kim-${hexId()}`;
    const kim = await init(await app.user(userId), { device: { id: "family-ipad", platform: "ios" }, userId });
    expect(kim.status).toBe(200);
    expect((await linkedUsers(app, "family-ipad")).sort()).toEqual([pat.id, kim.json.appUser._id].sort());
  });
});
