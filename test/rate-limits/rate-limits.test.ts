import { describe, expect, it } from "vitest";
import { account, call, createApp, device, expectError } from "../worker/support/helpers";

// Test budgets (vitest.config.ts): 3 requests per device caller, 20 per server key, per 60 s.
const DEVICE_LIMIT = 3;
const SERVER_LIMIT = 20;

async function exhaust(limit: number, request: () => ReturnType<typeof call>) {
  const statuses = [];
  for (let i = 0; i <= limit; i++) statuses.push((await request()).status);
  return statuses;
}

describe("rate limits", () => {
  it("limits an app token per app and client address, with 429, the JSON error and Retry-After", async () => {
    const app = await createApp();
    const fromA = { ...app.token, "cf-connecting-ip": "203.0.113.1" };
    const init = () => call("POST", "/v1/init", fromA, { body: { device: device("d1") } });
    expect(await exhaust(DEVICE_LIMIT - 1, init)).toEqual([200, 200, 200]);
    const refused = await init();
    expectError(refused, 429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);

    // Another client address of the same app, and the same address on another app, are unaffected.
    const fromB = { ...app.token, "cf-connecting-ip": "203.0.113.2" };
    expect((await call("POST", "/v1/init", fromB, { body: { device: device("d2") } })).status).toBe(200);
    const other = await createApp("other");
    const otherFromA = { ...other.token, "cf-connecting-ip": "203.0.113.1" };
    expect((await call("POST", "/v1/init", otherFromA, { body: { device: device("d1") } })).status).toBe(200);
  });

  it("limits an appUser JWT per user, never another user of the same app", async () => {
    const app = await createApp();
    const server = { ...app.server };
    for (const userId of ["ann", "bob"]) {
      expect((await call("POST", "/v1/appusers", server, { body: { userId } })).status).toBe(201);
    }
    const ann = await app.user("ann");
    const statuses = await exhaust(DEVICE_LIMIT, () => call("GET", "/v1/appusers/ann", ann));
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect((await call("GET", "/v1/appusers/bob", await app.user("bob"))).status).toBe(200);
  });

  it("gives servers a larger budget per key than devices get", async () => {
    const app = await createApp();
    const statuses = await exhaust(SERVER_LIMIT, () => call("GET", "/v1/webhooks", app.server));
    expect(statuses).toEqual([...Array(SERVER_LIMIT).fill(200), 429]);
    // The account key has its own budget.
    expect((await call("GET", "/v1/apps", await account())).status).toBe(200);
  });
});
