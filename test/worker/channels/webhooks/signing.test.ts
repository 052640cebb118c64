import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { call, createApp, expectError, hexId, interceptFetch, invalidCredentials, runQueue, type TestApp } from "../../support/helpers";

// Issue 11, item 3: the signature is keyed with a secret of its own, never sent anywhere after creation.

const encoder = new TextEncoder();

async function signedWith(header: string | null, body: string, key: string): Promise<boolean> {
  const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? "") ?? [];
  if (!t) return false;
  const hmac = await crypto.subtle.importKey("raw", encoder.encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  const mac = new Uint8Array(v1.match(/../g)!.map((byte) => parseInt(byte, 16)));
  return crypto.subtle.verify("HMAC", hmac, mac, encoder.encode(`${t}.${body}`));
}

let app: TestApp;
let other: TestApp;
let webhook: { _id: string; secret: string; signingSecret: string };

beforeAll(async () => {
  app = await createApp("signing");
  other = await createApp("signing, other");
  const created = await call("POST", "/v1/webhooks", app.server, { body: { target: "https://hooks.example.com/signed" } });
  expect(created.status).toBe(201);
  webhook = created.json.webhook;
});

afterEach(() => {
  vi.restoreAllMocks();
});

async function deliver(webhookId: string) {
  const { sent } = interceptFetch();
  const messageId = hexId();
  const body = JSON.stringify({ trigger: "message:appUser", messages: [{ _id: messageId, text: "hi" }] });
  await runQueue("parley-webhooks", [
    { body: { conversation: hexId(), deliveryId: hexId(), webhookId, messageId, trigger: "message:appUser", body } },
  ]);
  expect(sent).toHaveLength(1);
  return sent[0];
}

describe("the webhook signing secret", () => {
  it("is returned once at creation, apart from the secret sent as X-API-Key", () => {
    expect(webhook.signingSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(webhook.signingSecret).not.toBe(webhook.secret);
  });

  it("never appears in a later read or list", async () => {
    const one = await call("GET", `/v1/webhooks/${webhook._id}`, app.server);
    const list = await call("GET", "/v1/webhooks", app.server);
    const changed = await call("PUT", `/v1/webhooks/${webhook._id}`, app.server, { body: { triggers: ["message"] } });
    for (const response of [one, list, changed]) {
      expect(response.status).toBe(200);
      expect(JSON.stringify(response.json)).not.toContain(webhook.signingSecret);
      expect(JSON.stringify(response.json)).not.toContain("signingSecret");
    }
  });

  it("keys the signature, and is never sent in a delivery; X-API-Key no longer verifies it", async () => {
    const request = await deliver(webhook._id);
    expect(request.headers.get("x-api-key")).toBe(webhook.secret);
    const signature = request.headers.get("x-parley-signature");
    expect(await signedWith(signature, request.body, webhook.signingSecret)).toBe(true);
    expect(await signedWith(signature, request.body, webhook.secret)).toBe(false);
    for (const [, value] of request.headers) expect(value).not.toContain(webhook.signingSecret);
    expect(request.body).not.toContain(webhook.signingSecret);
  });

  it("is replaced by the rotate endpoint, which returns the new one once; later deliveries use it", async () => {
    const created = await call("POST", "/v1/webhooks", app.server, { body: { target: "https://hooks.example.com/rotated" } });
    const before = created.json.webhook;
    const rotated = await call("POST", `/v1/webhooks/${before._id}/signingSecret`, app.server);
    expect(rotated.status, JSON.stringify(rotated.json)).toBe(200);
    const { signingSecret, ...rest } = rotated.json.webhook;
    expect(rest).toEqual({ _id: before._id, triggers: before.triggers, secret: before.secret, target: before.target });
    expect(signingSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(signingSecret).not.toBe(before.signingSecret);

    const request = await deliver(before._id);
    expect(await signedWith(request.headers.get("x-parley-signature"), request.body, signingSecret)).toBe(true);
    expect(await signedWith(request.headers.get("x-parley-signature"), request.body, before.signingSecret)).toBe(false);
    expect(JSON.stringify((await call("GET", `/v1/webhooks/${before._id}`, app.server)).json)).not.toContain(signingSecret);
  });

  it("rotates only with an app-scope credential of the webhook's own app", async () => {
    const path = `/v1/webhooks/${webhook._id}/signingSecret`;
    for (const [name, auth] of await invalidCredentials(app)) expect((await call("POST", path, auth)).status, name).toBe(401);
    expectError(await call("POST", path, app.token), 403);
    expectError(await call("POST", path, await app.user("someone")), 403);
    expectError(await call("POST", path, other.server), 404);
    expectError(await call("POST", `/v1/webhooks/${hexId()}/signingSecret`, app.server), 404);
  });
});
