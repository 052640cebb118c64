// Push notifications end to end: smooch-core 1.5.0 against `wrangler dev`, an app with an fcm
// integration, and a loopback fake of FCM and Google's token endpoint that the dev server's
// FCM_API_URL and GOOGLE_TOKEN_URL point at (global-setup.ts). Pushes go through the real local
// queues: the outbox, the fan-out, the per-device jobs and their retries.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { FcmFake, serviceAccountFile } from "../support/fcm-fake.ts";
import { accountJwt } from "../support/jwt.ts";
import { sleep } from "../support/pace.ts";
import { api, createApp, options, SmoochCore, until } from "./client.ts";

/** How long the fake must stay silent before "nothing was sent" is believed. */
const QUIET_MS = 4_000;

const fake = new FcmFake(inject("fcmPort"));

beforeAll(() => fake.listen());
afterAll(() => fake.close());

let serial = 0;

/** An app with an fcm integration (configured with the account JWT), its server and a device. */
async function pushApp() {
  const app = await createApp(`push e2e ${++serial}`);
  const account = await accountJwt({ keyId: inject("accountKeyId"), secret: inject("accountSecret") }, { exp: "10m" });
  await api("POST", `/v1/apps/${app.appId}/integrations`, account, { type: "fcm", serviceAccount: serviceAccountFile() });
  return {
    app,
    asApp: new SmoochCore({ keyId: app.keyId, secret: app.secret, scope: "app" }, options),
    withToken: new SmoochCore({ appToken: app.appToken }, options),
  };
}

/** An Android device that calls init for `userId` with a fresh FCM token. */
async function initDevice(withToken: any, userId: string) {
  const token = `fcm-token-${++serial}-${Math.random().toString(36).slice(2)}`;
  const device = { id: `device-${token}`, platform: "android", appVersion: "1.0", pushNotificationToken: token };
  const { appUser } = await withToken.appUsers.init({ device, userId });
  return { appUser, token };
}

const reply = (asApp: any, userId: string, text: string) =>
  asApp.conversations.sendMessage(userId, { role: "appMaker", type: "text", text, name: "Ana" });

const requestsFor = (token: string) => [...fake.pushes, ...fake.refused].filter((push) => push.token === token);

describe("push notifications through wrangler dev and an FCM fake", () => {
  it("a business reply reaches the device that called init with a token; the user's own message does not", async () => {
    const { asApp, withToken } = await pushApp();
    const userId = `push-${++serial}@example.com`;
    const { token } = await initDevice(withToken, userId);

    const { message, conversation } = await reply(asApp, userId, "Your order has shipped");
    const [push] = await until("the push", () => fake.delivered(token).length > 0 && fake.delivered(token));
    expect(push.authorization).toMatch(/^Bearer fake-access-token-/);
    // The conversation and message ids travel as data; the text is sent by default.
    const sent = JSON.stringify(push.body);
    expect(sent).toContain(message._id);
    expect(sent).toContain("Your order has shipped");
    expect(sent).toContain(conversation._id);

    await withToken.conversations.sendMessage(userId, { role: "appUser", type: "text", text: "thanks" });
    await sleep(QUIET_MS);
    expect(requestsFor(token)).toHaveLength(1);
  });

  it("a provider outage (503) is retried until the push goes through", async () => {
    const { asApp, withToken } = await pushApp();
    const userId = `push-${++serial}@example.com`;
    const { token } = await initDevice(withToken, userId);
    fake.script(token, { status: 503 }, { status: 503 });

    await reply(asApp, userId, "after an outage");
    await until("the push after two 503s", () => fake.delivered(token).length > 0);
    expect(fake.refused.filter((push) => push.token === token).map((push) => push.status)).toEqual([503, 503]);
    expect(fake.delivered(token)).toHaveLength(1);
  });

  it("a 429 is retried no sooner than its Retry-After", async () => {
    const { asApp, withToken } = await pushApp();
    const userId = `push-${++serial}@example.com`;
    const { token } = await initDevice(withToken, userId);
    fake.script(token, { status: 429, retryAfterSeconds: 4 });

    await reply(asApp, userId, "slow down");
    const [push] = await until("the push after a 429", () => fake.delivered(token).length > 0 && fake.delivered(token));
    const [refused] = fake.refused.filter((attempt) => attempt.token === token);
    // The 1 s backoff would have retried after 1 s; Retry-After asked for 4.
    expect(push.at - refused.at).toBeGreaterThanOrEqual(3_500);
  });

  it("an UNREGISTERED token is cleared from its device, and no later message tries it", async () => {
    const { asApp, withToken } = await pushApp();
    const userId = `push-${++serial}@example.com`;
    const { appUser, token } = await initDevice(withToken, userId);
    fake.script(token, { status: 404, errorCode: "UNREGISTERED" });

    await reply(asApp, userId, "to a phone that uninstalled the app");
    await until("the token to be cleared", async () => {
      // The device as stored, through an update that changes nothing of it.
      const { device } = await asApp.appUsers.updateDevice(appUser._id, `device-${token}`, { appVersion: "1.0" });
      return !device.pushNotificationToken;
    });
    expect(requestsFor(token)).toHaveLength(1);

    await reply(asApp, userId, "a later message");
    await sleep(QUIET_MS);
    expect(requestsFor(token)).toHaveLength(1);
  });
});
