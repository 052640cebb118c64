import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { config } from "../../../src/config";
import { bearer, sign } from "../../support/jwt.ts";
import { account, call, createApp, device, expectError } from "../support/helpers";

// Issue 11, item 6: a revoked credential stops working everywhere within 5 seconds.

const BOUND_MS = 5_000;

afterEach(() => {
  vi.useRealTimers();
});

/**
 * Another isolate's view: the change is made in D1 directly, so this isolate's caches are not
 * told of it and must expire on their own. Then the clock moves just past the bound.
 */
async function revokedElsewhere(sql: string, ...values: string[]) {
  await env.DB.prepare(sql).bind(...values).run();
}

function afterTheBound() {
  vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
  vi.setSystemTime(Date.now() + BOUND_MS + 1);
}

const init = (auth: Record<string, string>) => call("POST", "/v1/init", auth, { body: { device: device("revocation") } });

describe("revocation", () => {
  it("caches credentials for at most 5 seconds", () => {
    expect(config(env).authCacheSeconds).toBeLessThanOrEqual(BOUND_MS / 1000);
  });

  it("refuses a JWT that verified here once it expires, however recently it was accepted", async () => {
    const app = await createApp("expiring token");
    const expiresAt = Math.floor(Date.now() / 1000) + 2;
    const token = bearer(await sign({ scope: "app" }, app.keyId, app.secret, { exp: expiresAt }));
    expect((await call("GET", "/v1/webhooks", token)).status).toBe(200);
    vi.useFakeTimers({ toFake: ["Date"], now: expiresAt * 1000 });
    const refused = await call("GET", "/v1/webhooks", token);
    expectError(refused, 401);
    expect(refused.json.error.description).toMatch(/expired/);
  });

  it("a key deleted by another isolate stops signing JWTs within the bound", async () => {
    const app = await createApp("revoked key");
    expect((await call("GET", "/v1/webhooks", app.server)).status).toBe(200);
    await revokedElsewhere("DELETE FROM app_keys WHERE id = ?", app.keyId);
    afterTheBound();
    expectError(await call("GET", "/v1/webhooks", app.server), 401);
  });

  it("a deleted app's token stops working within the bound", async () => {
    const app = await createApp("revoked app");
    expect((await init(app.token)).status).toBe(200);
    await revokedElsewhere("DELETE FROM apps WHERE id = ?", app.appId);
    afterTheBound();
    expectError(await init(app.token), 401);
  });

  it("a rotated app token stops working at once here, and within the bound elsewhere; the new one works", async () => {
    const app = await createApp("rotated token");
    expect((await init(app.token)).status).toBe(200);
    const rotated = await call("POST", `/v1/apps/${app.appId}/appToken`, await account());
    expect(rotated.status, JSON.stringify(rotated.json)).toBe(200);
    const newToken = rotated.json.app.appToken;
    expect(newToken).not.toBe(app.appToken);
    expect(rotated.json.app._id).toBe(app.appId);
    expectError(await init(app.token), 401);
    expect((await init({ "app-token": newToken })).status).toBe(200);

    // Rotated again by another isolate: the token cached here expires within the bound.
    await revokedElsewhere("UPDATE apps SET app_token = 'rotated-elsewhere' WHERE id = ?", app.appId);
    afterTheBound();
    expectError(await init({ "app-token": newToken }), 401);
  });

  it("rotates app tokens only with the account credential", async () => {
    const app = await createApp("rotation refused");
    for (const auth of [app.token, app.server, await app.user("someone")]) {
      expectError(await call("POST", `/v1/apps/${app.appId}/appToken`, auth), 403);
    }
    expectError(await call("POST", "/v1/apps/000000000000000000000000/appToken", await account()), 404);
    expect((await init(app.token)).status).toBe(200);
  });
});
