import { describe, expect, it } from "vitest";
import { account, call, createApp, expectError } from "../support/helpers";

// Issue 11, item 9: every request does bounded work and adds bounded storage.

const raw = (path: string, auth: Record<string, string>, text: string) =>
  call("POST", path, auth, { raw: text, headers: { "content-type": "application/json" } });

describe("JSON nesting", () => {
  it("refuses a body nested deeper than 32 levels with a 400 naming the body", async () => {
    const app = await createApp("nesting");
    const nested = (depth: number) => `{"device": {"id": "d", "platform": "ios", "info": ${"[".repeat(depth)}${"]".repeat(depth)}}}`;
    expectError(await raw("/v1/init", app.token, nested(40)), 400, "body");
    // Within the bound, the schema decides (info must be a flat object).
    expectError(await raw("/v1/init", app.token, nested(20)), 400, "device.info");
  });

  it("answers a body that is 100 KB of brackets with a 400, never a 500", async () => {
    const app = await createApp("brackets");
    for (const text of ["[".repeat(100_000), "{\"a\":".repeat(20_000), `"${"\\\"[".repeat(20_000)}"`]) {
      const response = await raw("/v1/init", app.token, text);
      expectError(response, 400);
    }
  });

  it("does not count brackets inside strings", async () => {
    const app = await createApp("strings");
    const response = await raw("/v1/init", app.token, JSON.stringify({ device: { id: "[".repeat(100), platform: "ios" } }));
    expect(response.status, JSON.stringify(response.json)).toBe(200);
  });
});

describe("what an app may accumulate", () => {
  it("has at most 100 whispers, so that one event fires and one list shows at most 100", async () => {
    const app = await createApp("whispers bound");
    const made = await Promise.all(
      Array.from({ length: 100 }, (_, i) => call("POST", "/v1/whispers", app.server, { body: { event: "e", text: `w${i}` } })),
    );
    expect(made.every((r) => r.status === 201)).toBe(true);
    expectError(await call("POST", "/v1/whispers", app.server, { body: { event: "e", text: "one too many" } }), 400, "whispers");
    expect((await call("GET", "/v1/whispers", app.server)).json.whispers).toHaveLength(100);
  });

  it("has at most 20 keys", async () => {
    const app = await createApp("keys bound");
    const auth = await account();
    // createApp made one already.
    for (let i = 1; i < 20; i++) {
      expect((await call("POST", `/v1/apps/${app.appId}/keys`, auth, { body: { name: `k${i}` } })).status).toBe(201);
    }
    expectError(await call("POST", `/v1/apps/${app.appId}/keys`, auth, { body: { name: "one too many" } }), 400, "keys");
    expect((await call("GET", `/v1/apps/${app.appId}/keys`, auth)).json.keys).toHaveLength(20);
  });
});
