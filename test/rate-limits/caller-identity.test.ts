import { describe, expect, it } from "vitest";
import { call, createApp, device, expectError } from "../worker/support/helpers";

// Issue 11, item 5: an IPv6 caller is its /64, and an app's anonymous traffic has a total budget.
// Test budgets (vitest.config.ts): 3 requests per device caller, 6 per app for all its app-token callers.
const DEVICE_LIMIT = 3;
const APP_LIMIT = 6;

const init = (auth: Record<string, string>, from: string) =>
  call("POST", "/v1/init", { ...auth, "cf-connecting-ip": from }, { body: { device: device(`d-${from}`) } });

describe("who a caller is, for the budgets", () => {
  it("counts every address of one IPv6 /64 as one caller, in any spelling", async () => {
    const app = await createApp("ipv6");
    const network = ["2001:db8:1:2::1", "2001:0db8:0001:0002:ffff::9", "2001:DB8:1:2:aaaa:bbbb:cccc:dddd"];
    for (const from of network) expect((await init(app.token, from)).status, from).toBe(200);
    expectError(await init(app.token, "2001:db8:1:2::abcd"), 429);
    // The next /64 is another caller.
    expect((await init(app.token, "2001:db8:1:3::1")).status).toBe(200);
  });

  it("still counts IPv4 callers per address", async () => {
    const app = await createApp("ipv4");
    for (let i = 0; i < DEVICE_LIMIT; i++) expect((await init(app.token, "192.0.2.10")).status).toBe(200);
    expectError(await init(app.token, "192.0.2.10"), 429);
    expect((await init(app.token, "192.0.2.11")).status).toBe(200);
  });

  it("gives an app's app-token traffic a total budget that many addresses cannot exceed; other apps are unaffected", async () => {
    const app = await createApp("spread");
    for (let i = 0; i < APP_LIMIT; i++) expect((await init(app.token, `203.0.113.${100 + i}`)).status, `caller ${i}`).toBe(200);
    const refused = await init(app.token, "203.0.113.200");
    expectError(refused, 429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    const other = await createApp("unaffected");
    expect((await init(other.token, "203.0.113.200")).status).toBe(200);
    // The business's own servers are not on that budget.
    expect((await call("GET", "/v1/webhooks", app.server)).status).toBe(200);
  });
});
