// smooch-core 4.3.0's integrations API, the client that added it, against the worker in `wrangler dev`.
import { generateKeyPairSync } from "node:crypto";
import { createRequire } from "node:module";
import { inject } from "vitest";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp, HEX_ID, options, refusal } from "./client.ts";

const SmoochCore4 = createRequire(import.meta.url)("smooch-core-4");

const pkcs8 = (type: "rsa" | "ec") =>
  (type === "rsa"
    ? generateKeyPairSync("rsa", { modulusLength: 2048 })
    : generateKeyPairSync("ec", { namedCurve: "P-256" })
  ).privateKey.export({ type: "pkcs8", format: "pem" }) as string;

const serviceAccount = {
  type: "service_account",
  project_id: "parley-e2e",
  private_key_id: "abcdef0123456789",
  private_key: pkcs8("rsa"),
  client_email: "push@parley-e2e.iam.gserviceaccount.com",
  token_uri: "https://oauth2.googleapis.com/token",
};
const p8 = pkcs8("ec");

let smooch: any;
let appId: string;
let appToken: string;

/**
 * smooch-core 4 checks `create`'s props against Smooch's types of its day (fcm needs `serverKey`,
 * apn a `certificate`, no `webpush`): Parley's shapes go through the same client's request().
 */
const create = (props: Record<string, unknown>) =>
  smooch.integrations.request("POST", `${options.serviceUrl}/apps/${appId}/integrations`, props);

beforeAll(async () => {
  smooch = new SmoochCore4({ keyId: inject("accountKeyId"), secret: inject("accountSecret"), scope: "account" }, options);
  ({ appId, appToken } = await createApp("integrations e2e"));
});

describe("smooch-core 4.3.0's integrations API against wrangler dev", () => {
  const ids: Record<string, string> = {};

  it("creates fcm, apn and webpush channels; no response shows a private key", async () => {
    const fcm = await create({ type: "fcm", serviceAccount, senderId: "1234567890" });
    const apn = await create({ type: "apn", keyId: "KEYID12345", teamId: "TEAMID1234", bundleId: "com.example.e2e", key: p8, production: false });
    const webpush = await create({ type: "webpush" });
    for (const { integration } of [fcm, apn, webpush]) {
      expect(integration._id).toMatch(HEX_ID);
      ids[integration.type] = integration._id;
    }
    expect(webpush.integration.vapidPublicKey).toMatch(/^B[A-Za-z0-9_-]{86}$/);
    const text = JSON.stringify([fcm, apn, webpush]);
    expect(text).not.toContain("PRIVATE KEY");
    expect(text).not.toContain(serviceAccount.private_key.split("\n")[1]);
  });

  it("lists them, with the types filter as a string or an array", async () => {
    const all = await smooch.integrations.list(appId);
    expect(all.integrations.map((i: { type: string }) => i.type)).toEqual(["fcm", "apn", "webpush"]);
    expect((await smooch.integrations.list(appId, "apn")).integrations.map((i: { _id: string }) => i._id)).toEqual([ids.apn]);
    const some = await smooch.integrations.list(appId, ["fcm", "webpush"]);
    expect(some.integrations.map((i: { type: string }) => i.type)).toEqual(["fcm", "webpush"]);
    expect(JSON.stringify(all)).not.toContain("PRIVATE KEY");
  });

  it("gets one", async () => {
    const { integration } = await smooch.integrations.get(appId, ids.fcm);
    expect(integration).toEqual({
      _id: ids.fcm,
      status: "active",
      type: "fcm",
      projectId: "parley-e2e",
      clientEmail: serviceAccount.client_email,
      senderId: "1234567890",
    });
  });

  it("tells a device at init", async () => {
    const response = await fetch(`${options.serviceUrl}/init`, {
      method: "POST",
      headers: { "app-token": appToken, "content-type": "application/json" },
      body: JSON.stringify({ device: { id: "e2e-push-device", platform: "android" } }),
    });
    const { app } = await response.json();
    expect(app).toMatchObject({ apnEnabled: true, gcmProject: "1234567890" });
    expect(app.integrations.map((i: { type: string }) => i.type)).toEqual(["fcm", "apn", "webpush"]);
  });

  it("refuses what smooch-core 4 itself would send: the FCM legacy server key and APNs certificates", async () => {
    const legacy = smooch.integrations.create(appId, { type: "fcm", serverKey: "AAAA:legacy", senderId: "1234567890" });
    expect(await refusal(legacy)).toBe(400);
    const certificate = smooch.integrations.create(appId, { type: "apn", certificate: "MIIKcQIBAzCCCjcGCSqGSIb3DQEHAaCC" });
    expect(await refusal(certificate)).toBe(400);
  });

  it("deletes one; getting it again is a 404", async () => {
    await smooch.integrations.delete(appId, ids.apn);
    expect(await refusal(smooch.integrations.get(appId, ids.apn))).toBe(404);
    expect((await smooch.integrations.list(appId)).integrations.map((i: { type: string }) => i.type)).toEqual(["fcm", "webpush"]);
  });
});
