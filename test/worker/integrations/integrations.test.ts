import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { account, call, createApp, device, expectError, type TestApp } from "../support/helpers";
import { apnsKey, serviceAccount } from "../support/push-keys";

let acct: Record<string, string>;
let fcmFile: Awaited<ReturnType<typeof serviceAccount>>["file"];
let p8: string;

beforeAll(async () => {
  acct = await account();
  fcmFile = (await serviceAccount()).file;
  p8 = (await apnsKey()).pem;
});

const apn = () => ({ type: "apn", keyId: "ABC123DEFG", teamId: "TEAM123456", bundleId: "com.example.chat", key: p8, production: true });
const fcm = () => ({ type: "fcm", serviceAccount: fcmFile, senderId: "731399543244" });

const integrationsOf = (app: TestApp, query = "") => call("GET", `/v1/apps/${app.appId}/integrations${query}`, acct);
const configure = (app: TestApp, body: unknown) => call("POST", `/v1/apps/${app.appId}/integrations`, acct, { body });

/** Every secret a test configured: none may appear in any response. */
const secrets = () => [fcmFile.private_key, p8, ...[fcmFile.private_key, p8].map((key) => key.split("\n")[1])];
const expectNoSecret = (body: unknown) => {
  const text = JSON.stringify(body);
  for (const secret of secrets()) expect(text).not.toContain(secret);
  expect(text).not.toMatch(/"d"\s*:|privateKey|private_key"/);
};

describe("POST /v1/apps/{appId}/integrations", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createApp("integrations");
  });

  it("configures fcm from a service account key file: 201, its public fields only", async () => {
    const response = await configure(app, fcm());
    expect(response.status, JSON.stringify(response.json)).toBe(201);
    expect(response.json.integration).toEqual({
      _id: expect.stringMatching(/^[0-9a-f]{24}$/),
      status: "active",
      type: "fcm",
      projectId: "parley-test",
      clientEmail: fcmFile.client_email,
      senderId: "731399543244",
    });
    expectNoSecret(response.json);
  });

  it("configures apn with a .p8 key: 201 without the key", async () => {
    const response = await configure(app, apn());
    expect(response.status, JSON.stringify(response.json)).toBe(201);
    const { _id, ...rest } = response.json.integration;
    expect(rest).toEqual({ status: "active", type: "apn", keyId: "ABC123DEFG", teamId: "TEAM123456", bundleId: "com.example.chat", production: true });
    expectNoSecret(response.json);
  });

  it("configures webpush: generates a VAPID key pair and returns only its public key", async () => {
    const response = await configure(app, { type: "webpush" });
    expect(response.status, JSON.stringify(response.json)).toBe(201);
    const { vapidPublicKey } = response.json.integration;
    // An uncompressed P-256 point, URL-safe base64: 65 bytes, 0x04 first.
    expect(vapidPublicKey).toMatch(/^B[A-Za-z0-9_-]{86}$/);
    expectNoSecret(response.json);
  });

  it("keeps one integration of each type: a second is a 409", async () => {
    expectError(await configure(app, { type: "webpush" }), 409);
  });

  it("lists them, filters by types, gets one, and never shows a secret", async () => {
    const all = await integrationsOf(app);
    expect(all.status).toBe(200);
    expect(all.json.integrations.map((i: { type: string }) => i.type)).toEqual(["fcm", "apn", "webpush"]);
    const some = await integrationsOf(app, "?types=apn,webpush");
    expect(some.json.integrations.map((i: { type: string }) => i.type)).toEqual(["apn", "webpush"]);
    const one = await call("GET", `/v1/apps/${app.appId}/integrations/${all.json.integrations[0]._id}`, acct);
    expect(one.json.integration).toEqual(all.json.integrations[0]);
    for (const body of [all.json, some.json, one.json]) expectNoSecret(body);
  });

  it("stores the secrets, for signing", async () => {
    const row = await env.DB.prepare("SELECT secret FROM integrations WHERE app_id = ? AND type = 'fcm'").bind(app.appId).first<{ secret: string }>();
    expect(JSON.parse(row!.secret).privateKey).toBe(fcmFile.private_key);
  });

  it("shows the channels to devices at init: apnEnabled, gcmProject and the web push key", async () => {
    const listed = (await integrationsOf(app)).json.integrations;
    const init = await call("POST", "/v1/init", app.token, { body: { device: device("integrations-device") } });
    expect(init.status).toBe(200);
    expect(init.json.app.apnEnabled).toBe(true);
    expect(init.json.app.gcmProject).toBe("731399543244");
    expect(init.json.app.integrations).toEqual([
      { _id: listed[0]._id, type: "fcm" },
      { _id: listed[1]._id, type: "apn" },
      { _id: listed[2]._id, type: "webpush", vapidPublicKey: listed[2].vapidPublicKey },
    ]);
    expectNoSecret(init.json);
  });

  it("deletes one: 200, then 404, and init no longer reports it", async () => {
    const listed = (await integrationsOf(app)).json.integrations;
    const apnId = listed[1]._id;
    expect((await call("DELETE", `/v1/apps/${app.appId}/integrations/${apnId}`, acct)).status).toBe(200);
    expectError(await call("GET", `/v1/apps/${app.appId}/integrations/${apnId}`, acct), 404);
    expectError(await call("DELETE", `/v1/apps/${app.appId}/integrations/${apnId}`, acct), 404);
    const init = await call("POST", "/v1/init", app.token, { body: { device: device("integrations-device") } });
    expect(init.json.app.apnEnabled).toBe(false);
    expect(init.json.app.integrations.map((i: { type: string }) => i.type)).toEqual(["fcm", "webpush"]);
  });

  it("uses the project ID as gcmProject when no senderId was given", async () => {
    const other = await createApp("fcm without sender");
    const { senderId: _, ...body } = fcm();
    expect((await configure(other, body)).status).toBe(201);
    const init = await call("POST", "/v1/init", other.token, { body: { device: device("d-project") } });
    expect(init.json.app.gcmProject).toBe("parley-test");
  });

  it("is scoped to its app: another app's integration is a 404", async () => {
    const other = await createApp("other integrations");
    const id = (await integrationsOf(app)).json.integrations[0]._id;
    expectError(await call("GET", `/v1/apps/${other.appId}/integrations/${id}`, acct), 404);
    expectError(await call("DELETE", `/v1/apps/${other.appId}/integrations/${id}`, acct), 404);
    expect((await integrationsOf(other)).json.integrations).toEqual([]);
  });

  it("answers 404 for an unknown app", async () => {
    expectError(await integrationsOf({ appId: "0123456789abcdef01234567" } as TestApp), 404);
    expectError(await configure({ appId: "0123456789abcdef01234567" } as TestApp, { type: "webpush" }), 404);
  });
});

describe("bad configuration is refused with a 400 naming the field", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createApp("bad integrations");
  });

  const sa = (changes: Record<string, unknown>) => ({ type: "fcm", serviceAccount: { ...fcmFile, ...changes } });
  const cases: Array<[string, () => unknown, string]> = [
    ["no type", () => ({}), "type"],
    ["an unknown type", () => ({ type: "messenger" }), "type"],
    ["fcm without a service account", () => ({ type: "fcm" }), "serviceAccount"],
    ["a service account that is a string", () => ({ type: "fcm", serviceAccount: JSON.stringify(fcmFile) }), "serviceAccount"],
    ["a service account of another type", () => sa({ type: "authorized_user" }), "serviceAccount.type"],
    ["a service account without project_id", () => sa({ project_id: undefined }), "serviceAccount.project_id"],
    ["a service account without client_email", () => sa({ client_email: undefined }), "serviceAccount.client_email"],
    ["a service account without private_key", () => sa({ private_key: undefined }), "serviceAccount.private_key"],
    ["a private key that is not PEM", () => sa({ private_key: "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" }), "serviceAccount.private_key"],
    ["a private key whose PEM is garbage", () => sa({ private_key: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" }), "serviceAccount.private_key"],
    ["a service account holding an EC key", () => sa({ private_key: p8 }), "serviceAccount.private_key"],
    ["apn without keyId", () => ({ ...apn(), keyId: undefined }), "keyId"],
    ["apn with a malformed teamId", () => ({ ...apn(), teamId: "team" }), "teamId"],
    ["apn without bundleId", () => ({ ...apn(), bundleId: "" }), "bundleId"],
    ["apn without a key", () => ({ ...apn(), key: undefined }), "key"],
    ["apn with a key that is not a .p8", () => ({ ...apn(), key: "not a key" }), "key"],
    ["apn with an RSA key", () => ({ ...apn(), key: fcmFile.private_key }), "key"],
    ["apn with a production that is a string", () => ({ ...apn(), production: "yes" }), "production"],
  ];

  it.each(cases)("%s", async (_, body, field) => {
    expectError(await configure(app, body()), 400, field);
  });

  it("refuses the FCM legacy server key, saying why and what to send instead", async () => {
    const response = await configure(app, { type: "fcm", serverKey: "AAAA:legacy", senderId: "731399543244" });
    expectError(response, 400, "serverKey");
    expect(response.json.error.description).toMatch(/shut down.*serviceAccount/);
  });

  it.each(["certificate", "password"])("refuses an APNs %s, saying why and what to send instead", async (field) => {
    const response = await configure(app, { type: "apn", certificate: "MIIK...base64 p12", password: "secret" });
    expectError(response, 400, "certificate");
    expect(response.json.error.description).toMatch(/client TLS.*keyId, teamId, bundleId and key/);
    const only = await configure(app, { ...apn(), [field]: "x" });
    expectError(only, 400, field);
  });

  it("refuses an unknown type in the list filter", async () => {
    expectError(await integrationsOf(app, "?types=fcm,telegram"), 400, "types");
  });

  it("stored nothing", async () => {
    expect((await integrationsOf(app)).json.integrations).toEqual([]);
  });
});

describe("deleting an app", () => {
  it("deletes its integrations and their keys at once", async () => {
    const app = await createApp("doomed integrations");
    expect((await configure(app, fcm())).status).toBe(201);
    expect((await call("DELETE", `/v1/apps/${app.appId}`, acct)).status).toBe(200);
    const { count } = (await env.DB.prepare("SELECT COUNT(*) AS count FROM integrations WHERE app_id = ?").bind(app.appId).first<{ count: number }>())!;
    expect(count).toBe(0);
  });
});
