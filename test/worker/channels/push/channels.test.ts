import { env } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { hasPushChannel, sendPush, type PushMessage, type PushOutcome } from "../../../../src/channels/push/send";
import { account, call, createApp, type TestApp } from "../../support/helpers";
import { decryptPush, fakeEndpoints, fakeProviders, fcmError, jsonError, verifyVapid, type Fakes } from "../../support/push-fakes";
import { apnsKey, pushSubscription, serviceAccount } from "../../support/push-keys";

const pushEnv = { ...env, ...fakeEndpoints, VAPID_SUBJECT: "mailto:ops@parley.test" } as Env;

const FCM_TOKEN = "fLn3x0:APA91bH-registration-token_for.android";
const APNS_TOKEN = "a".repeat(16) + "0123456789abcdef".repeat(3);
const PUSH_ENDPOINT = "https://push.example.net/wpush/v2/subscription-1";

let acct: Record<string, string>;
let app: TestApp;
let sa: Awaited<ReturnType<typeof serviceAccount>>;
let p8: Awaited<ReturnType<typeof apnsKey>>;
let vapidPublicKey: string;
let fakes: Fakes;
/** Everything the tests configured that must never leave Parley. */
let secrets: string[];
const logged: string[] = [];

const message = (changes: Partial<PushMessage> = {}): PushMessage => ({
  appId: app.appId,
  appUserId: "0123456789abcdef01234567",
  conversationId: "conversation-1",
  messageId: "message-1",
  text: "Your order has shipped",
  mediaType: null,
  authorName: "Ada",
  ...changes,
});

async function configure(target: TestApp, body: unknown) {
  const response = await call("POST", `/v1/apps/${target.appId}/integrations`, acct, { body });
  expect(response.status, JSON.stringify(response.json)).toBe(201);
  return response.json.integration;
}

const sentTo = (host: "fcm" | "apns" | "push") => fakes.of(host).at(-1)!;

/** No secret in an outcome, and its reason names neither a key nor a token. */
function expectClean(outcome: PushOutcome) {
  const text = JSON.stringify(outcome);
  for (const secret of secrets) expect(text).not.toContain(secret);
  for (const token of [...fakes.issued, FCM_TOKEN, APNS_TOKEN]) expect(text).not.toContain(token);
}

async function push(token: string, platform: string, changes: Partial<PushMessage> = {}) {
  const outcome = await sendPush(pushEnv, { platform, token }, message(changes));
  expectClean(outcome);
  return outcome;
}

/** The provider answers the next push so; the outcome matches, and its reason names the status. */
async function expectMapped(provider: "fcm" | "apns", answer: () => Response, expected: Partial<PushOutcome>) {
  fakes.answer[provider] = answer;
  const outcome = provider === "fcm" ? await push(FCM_TOKEN, "android") : await push(APNS_TOKEN, "ios");
  expect(outcome).toMatchObject(expected);
  expect((outcome as { reason: string }).reason).toMatch(provider === "fcm" ? /^FCM answered \d{3}/ : /^APNs answered \d{3}/);
}

beforeAll(async () => {
  acct = await account();
  [sa, p8] = await Promise.all([serviceAccount(), apnsKey()]);
  app = await createApp("Acme Support");
  await configure(app, { type: "fcm", serviceAccount: sa.file });
  await configure(app, { type: "apn", keyId: "KEY1234567", teamId: "TEAM123456", bundleId: "com.acme.support", key: p8.pem, production: false });
  vapidPublicKey = (await configure(app, { type: "webpush" })).vapidPublicKey;
  const vapidPrivate = (await env.DB.prepare("SELECT secret FROM integrations WHERE app_id = ? AND type = 'webpush'").bind(app.appId).first<{ secret: string }>())!;
  secrets = [sa.file.private_key, p8.pem, JSON.parse(vapidPrivate.secret).vapidPrivateKey.d, ...[sa.file.private_key, p8.pem].map((k) => k.split("\n")[1])];
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(" ")));
  }
});

beforeAll(() => {
  fakes = fakeProviders({
    serviceAccount: { publicKey: sa.publicKey, clientEmail: sa.file.client_email, keyId: sa.file.private_key_id },
    apns: { publicKey: p8.publicKey, keyId: "KEY1234567", teamId: "TEAM123456" },
  });
});

afterEach(() => {
  fakes.answer = {};
  for (const line of logged) for (const secret of secrets) expect(line).not.toContain(secret);
});

describe("FCM (HTTP v1)", () => {
  it("gets an access token with a signed JWT-bearer grant and sends the notification for an Android device", async () => {
    expect(await push(FCM_TOKEN, "android")).toEqual({ outcome: "sent", status: 200 });
    expect(fakes.of("token")).toHaveLength(1);
    const sent = sentTo("fcm");
    expect(sent.url).toBe("https://fcm.test/v1/projects/parley-test/messages:send");
    expect(JSON.parse(sent.body)).toEqual({
      message: {
        token: FCM_TOKEN,
        notification: { title: "Acme Support", body: "Your order has shipped" },
        data: { smoochNotification: "true", conversationId: "conversation-1", messageId: "message-1" },
        android: { priority: "high", collapse_key: "message-1", notification: { sound: "default" } },
      },
    });
  });

  it("reuses the access token until shortly before it expires", async () => {
    await push(FCM_TOKEN, "android");
    await push(FCM_TOKEN, "android");
    expect(fakes.of("token")).toHaveLength(1);
  });

  it("asks again for a token that expires within the minute it keeps in hand", async () => {
    const brief = await createApp("brief tokens");
    await configure(brief, { type: "fcm", serviceAccount: sa.file });
    fakes.answer.token = () => {
      fakes.issued.push(`ya29.brief-${fakes.issued.length + 1}`);
      return Response.json({ access_token: fakes.issued.at(-1), expires_in: 45, token_type: "Bearer" });
    };
    const before = fakes.of("token").length;
    for (let i = 0; i < 2; i++) {
      expect((await sendPush(pushEnv, { platform: "android", token: FCM_TOKEN }, message({ appId: brief.appId }))).outcome).toBe("sent");
    }
    expect(fakes.of("token").length - before).toBe(2);
  });

  it("sends an iOS device's FCM token through FCM, with the APNs block", async () => {
    expect((await push(FCM_TOKEN, "ios")).outcome).toBe("sent");
    const body = JSON.parse(sentTo("fcm").body).message;
    expect(body.apns).toEqual({ headers: { "apns-priority": "10", "apns-collapse-id": "message-1" }, payload: { aps: { sound: "default" } } });
    expect(body.android).toBeUndefined();
  });

  it("says 'sent an image' for an image without text", async () => {
    await push(FCM_TOKEN, "android", { text: null, mediaType: "image" });
    expect(JSON.parse(sentTo("fcm").body).message.notification).toEqual({ title: "Acme Support", body: "Ada sent an image" });
  });

  it.each<[string, () => Response, Partial<PushOutcome>]>([
    ["503 with Retry-After", fcmError(503, "UNAVAILABLE", "UNAVAILABLE", { "retry-after": "120" }), { outcome: "retry", status: 503, retryAfterSeconds: 120 }],
    ["500 without Retry-After", fcmError(500, "INTERNAL", "INTERNAL"), { outcome: "retry", status: 500, retryAfterSeconds: null }],
    ["429 QUOTA_EXCEEDED with Retry-After", fcmError(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", { "retry-after": "30" }), { outcome: "retry", status: 429, retryAfterSeconds: 30 }],
    ["404 UNREGISTERED", fcmError(404, "NOT_FOUND", "UNREGISTERED"), { outcome: "invalid-token", status: 404 }],
    ["400 UNREGISTERED", fcmError(400, "INVALID_ARGUMENT", "UNREGISTERED"), { outcome: "invalid-token", status: 400 }],
    ["410", fcmError(410, "GONE"), { outcome: "invalid-token", status: 410 }],
    ["403 SENDER_ID_MISMATCH", fcmError(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH"), { outcome: "failed", status: 403 }],
  ])("maps FCM's %s", (_, answer, expected) => expectMapped("fcm", answer, expected));

  it("retries when FCM is unreachable", async () => {
    fakes.answer.fcm = () => {
      throw new TypeError("Network connection lost.");
    };
    expect(await push(FCM_TOKEN, "android")).toMatchObject({ outcome: "retry", status: null });
  });

  it("drops a refused access token (401) and asks for a new one on the retry", async () => {
    const before = fakes.of("token").length;
    fakes.answer.fcm = fcmError(401, "UNAUTHENTICATED");
    expect(await push(FCM_TOKEN, "android")).toMatchObject({ outcome: "retry", status: 401 });
    fakes.answer.fcm = undefined;
    expect((await push(FCM_TOKEN, "android")).outcome).toBe("sent");
    expect(fakes.of("token")).toHaveLength(before + 1);
  });

  it("maps the token endpoint's refusal to a failure and its outage to a retry", async () => {
    const other = await createApp("token trouble");
    await configure(other, { type: "fcm", serviceAccount: sa.file });
    fakes.answer.token = jsonError(400, { error: "invalid_grant", error_description: "Invalid JWT Signature." });
    const refused = await sendPush(pushEnv, { platform: "android", token: FCM_TOKEN }, message({ appId: other.appId }));
    expect(refused).toEqual({ outcome: "failed", status: 400, reason: "Google's token endpoint answered 400 invalid_grant" });
    fakes.answer.token = jsonError(503, { error: "temporarily_unavailable" }, { "retry-after": "5" });
    const down = await sendPush(pushEnv, { platform: "android", token: FCM_TOKEN }, message({ appId: other.appId }));
    expect(down).toMatchObject({ outcome: "retry", status: 503, retryAfterSeconds: 5 });
  });

  it("posts the grant to GOOGLE_TOKEN_URL whatever token_uri the key file names", async () => {
    expect(sa.file.token_uri).toBe("https://oauth2.googleapis.com/token");
    expect(fakes.sent.some((s) => s.url.startsWith("https://oauth2.googleapis.com"))).toBe(false);
  });
});

describe("APNs (token-based)", () => {
  it("signs an ES256 provider token and sends an alert to the sandbox origin's replacement", async () => {
    expect(await push(APNS_TOKEN, "ios")).toEqual({ outcome: "sent", status: 200 });
    const sent = sentTo("apns");
    expect(sent.url).toBe(`https://apns.test/3/device/${APNS_TOKEN}`);
    expect(sent.headers.get("apns-topic")).toBe("com.acme.support");
    expect(sent.headers.get("apns-push-type")).toBe("alert");
    expect(sent.headers.get("apns-collapse-id")).toBe("message-1");
    expect(JSON.parse(sent.body)).toEqual({
      aps: { alert: { title: "Acme Support", body: "Your order has shipped" }, sound: "default" },
      smoochNotification: "true",
      conversationId: "conversation-1",
      messageId: "message-1",
    });
  });

  it("reuses the provider token rather than signing one per push (Apple throttles refreshes)", async () => {
    await push(APNS_TOKEN, "ios");
    await push(APNS_TOKEN, "ios");
    const tokens = new Set(fakes.of("apns").map((s) => s.headers.get("authorization")));
    expect(tokens.size).toBe(1);
  });

  it.each<[string, () => Response, Partial<PushOutcome>]>([
    ["410 Unregistered", jsonError(410, { reason: "Unregistered", timestamp: 1 }), { outcome: "invalid-token", status: 410 }],
    ["400 BadDeviceToken", jsonError(400, { reason: "BadDeviceToken" }), { outcome: "invalid-token", status: 400 }],
    ["429 TooManyRequests with Retry-After", jsonError(429, { reason: "TooManyRequests" }, { "retry-after": "60" }), { outcome: "retry", status: 429, retryAfterSeconds: 60 }],
    ["503 ServiceUnavailable", jsonError(503, { reason: "ServiceUnavailable" }), { outcome: "retry", status: 503 }],
    ["403 InvalidProviderToken", jsonError(403, { reason: "InvalidProviderToken" }), { outcome: "failed", status: 403 }],
    ["400 TopicDisallowed", jsonError(400, { reason: "TopicDisallowed" }), { outcome: "failed", status: 400 }],
  ])("maps APNs' %s", (_, answer, expected) => expectMapped("apns", answer, expected));

  it("signs a new provider token when Apple says the old one expired", async () => {
    const before = new Set(fakes.of("apns").map((s) => s.headers.get("authorization")));
    fakes.answer.apns = jsonError(403, { reason: "ExpiredProviderToken" });
    expect(await push(APNS_TOKEN, "ios")).toMatchObject({ outcome: "retry", status: 403 });
    fakes.answer.apns = undefined;
    await new Promise((resolve) => setTimeout(resolve, 1100)); // a new iat
    await push(APNS_TOKEN, "ios");
    expect(before.has(sentTo("apns").headers.get("authorization"))).toBe(false);
  });
});

describe("Web Push (VAPID, aes128gcm)", () => {
  it("encrypts the notification for the subscription, which decrypts it with its private key", async () => {
    const browser = await pushSubscription(PUSH_ENDPOINT);
    expect(await push(browser.token, "web")).toEqual({ outcome: "sent", status: 201 });
    const sent = sentTo("push");
    expect(sent.url).toBe(PUSH_ENDPOINT);
    expect(sent.headers.get("content-encoding")).toBe("aes128gcm");
    expect(Number(sent.headers.get("ttl"))).toBeGreaterThan(0);
    expect(sent.headers.get("urgency")).toBe("high");
    expect(sent.headers.get("topic")).toBe("message-1");
    expect(sent.body).not.toContain("shipped");
    expect(JSON.parse(await decryptPush(sent.bytes, browser))).toEqual({
      title: "Acme Support",
      body: "Your order has shipped",
      data: { smoochNotification: "true", conversationId: "conversation-1", messageId: "message-1" },
    });
    const claims = await verifyVapid(sent.headers.get("authorization")!, PUSH_ENDPOINT, vapidPublicKey);
    expect(claims.sub).toBe("mailto:ops@parley.test");
  });

  it.each<[number, Partial<PushOutcome>]>([
    [410, { outcome: "invalid-token", status: 410 }],
    [404, { outcome: "invalid-token", status: 404 }],
    [429, { outcome: "retry", status: 429, retryAfterSeconds: 9 }],
    [502, { outcome: "retry", status: 502, retryAfterSeconds: 9 }],
    [413, { outcome: "failed", status: 413 }],
  ])("maps the push service's %i", async (status, expected) => {
    const browser = await pushSubscription(PUSH_ENDPOINT);
    fakes.answer.push = () => new Response(null, { status, headers: { "retry-after": "9" } });
    expect(await push(browser.token, "web")).toMatchObject(expected);
  });

  it("refuses an endpoint on a private network, as it refuses such webhook targets", async () => {
    const before = fakes.sent.length;
    for (const endpoint of ["https://127.0.0.1:8080/push", "https://metadata.google.internal/x", "https://[::1]/p"]) {
      const browser = await pushSubscription(endpoint);
      expect(await push(browser.token, "web")).toMatchObject({ outcome: "failed", status: null });
    }
    expect(fakes.sent.length).toBe(before);
  });

  it("allows one where WEBHOOK_ALLOW_PRIVATE_TARGETS allows webhooks there (local development)", async () => {
    const browser = await pushSubscription("https://127.0.0.1:8080/push");
    const local = { ...pushEnv, WEBHOOK_ALLOW_PRIVATE_TARGETS: "true" } as Env;
    expect((await sendPush(local, { platform: "web", token: browser.token }, message())).outcome).toBe("sent");
  });
});

describe("the privacy setting and the channel choice", () => {
  it("sends no message text when the app's pushMessageText setting is false", async () => {
    const quiet = await createApp("Quiet Clinic", { pushMessageText: false });
    await configure(quiet, { type: "fcm", serviceAccount: sa.file });
    const browser = await pushSubscription(PUSH_ENDPOINT);
    await configure(quiet, { type: "webpush" });
    await sendPush(pushEnv, { platform: "android", token: FCM_TOKEN }, message({ appId: quiet.appId }));
    expect(JSON.parse(sentTo("fcm").body).message.notification).toEqual({ title: "Quiet Clinic" });
    await sendPush(pushEnv, { platform: "web", token: browser.token }, message({ appId: quiet.appId, text: null, mediaType: "image" }));
    const shown = JSON.parse(await decryptPush(sentTo("push").bytes, browser));
    expect(shown).toEqual({ title: "Quiet Clinic", body: null, data: expect.any(Object) });
  });

  it("picks the channel by the token's shape, and reports devices no channel reaches", async () => {
    const browser = await pushSubscription(PUSH_ENDPOINT);
    const bare = await createApp("no channels");
    const fcmOnly = await createApp("fcm only");
    await configure(fcmOnly, { type: "fcm", serviceAccount: sa.file });
    expect(await hasPushChannel(pushEnv, app.appId, "android", FCM_TOKEN)).toBe(true);
    expect(await hasPushChannel(pushEnv, app.appId, "ios", APNS_TOKEN)).toBe(true);
    expect(await hasPushChannel(pushEnv, app.appId, "web", browser.token)).toBe(true);
    expect(await hasPushChannel(pushEnv, app.appId, "web", '{"endpoint":"https://push.example.net/x"}')).toBe(false);
    const local = await pushSubscription("http://localhost:8080/push");
    expect(await hasPushChannel(pushEnv, app.appId, "web", local.token)).toBe(false);
    expect(await hasPushChannel(pushEnv, bare.appId, "android", FCM_TOKEN)).toBe(false);
    expect(await hasPushChannel(pushEnv, fcmOnly.appId, "ios", APNS_TOKEN)).toBe(false);
    expect(await hasPushChannel(pushEnv, fcmOnly.appId, "ios", FCM_TOKEN)).toBe(true);
    const none = await sendPush(pushEnv, { platform: "ios", token: APNS_TOKEN }, message({ appId: fcmOnly.appId }));
    expect(none).toEqual({ outcome: "failed", status: null, reason: "the app has no push channel for this ios device's token" });
  });
});

describe("registering a Web Push subscription", () => {
  it("refuses an http: endpoint with a 400 naming the field, at init, device update and pushtoken (RFC 8030)", async () => {
    const { expectError, hexId } = await import("../../support/helpers");
    const owner = await createApp("Web Push https only");
    const insecure = (await pushSubscription("http://push.example.net/wpush/v2/s")).token;
    const deviceId = `web-${hexId()}`;
    const refused = await call("POST", "/v1/init", owner.token, { body: { device: { id: deviceId, platform: "web", pushNotificationToken: insecure } } });
    expectError(refused, 400, "device.pushNotificationToken");
    const user = (await call("POST", "/v1/init", owner.token, { body: { device: { id: deviceId, platform: "web" } } })).json.appUser;
    expectError(await call("PUT", `/v1/appusers/${user._id}/devices/${deviceId}`, owner.token, { body: { pushNotificationToken: insecure } }), 400, "pushNotificationToken");
    expectError(await call("POST", `/v1/appusers/${user._id}/pushtoken`, owner.token, { body: { deviceId, token: insecure } }), 400, "token");
    const secure = (await pushSubscription(PUSH_ENDPOINT)).token;
    expect((await call("POST", `/v1/appusers/${user._id}/pushtoken`, owner.token, { body: { deviceId, token: secure } })).status).toBe(200);
  });
});
