import { describe, expect, it, vi } from "vitest";
import { call, createApp } from "../support/helpers";
import { Conversation } from "../../../src/conversation/object/conversation";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("X-Request-Id", () => {
  it("is generated for a request without one, on successes and errors alike", async () => {
    const ok = await call("GET", "/");
    const missing = await call("GET", "/v1/nowhere");
    const refused = await call("GET", "/v1/webhooks");
    for (const response of [ok, missing, refused]) expect(response.headers.get("x-request-id")).toMatch(UUID);
    expect(ok.headers.get("x-request-id")).not.toBe(missing.headers.get("x-request-id"));
  });

  it("keeps a well-formed incoming id and replaces a malformed one", async () => {
    const kept = await call("GET", "/", {}, { headers: { "x-request-id": "trace-42.abc:7" } });
    expect(kept.headers.get("x-request-id")).toBe("trace-42.abc:7");
    for (const bad of ["has space", "x".repeat(129), "semi;colon", "quote\"d"]) {
      const replaced = await call("GET", "/", {}, { headers: { "x-request-id": bad } });
      expect(replaced.headers.get("x-request-id"), bad).toMatch(UUID);
    }
  });

  it("is exposed to browsers", async () => {
    const preflight = await call("OPTIONS", "/v1/init", {}, { headers: { origin: "https://site.test", "access-control-request-method": "POST" } });
    expect(preflight.headers.get("access-control-allow-headers")).toContain("x-request-id");
    const cors = await call("GET", "/", {}, { headers: { origin: "https://site.test" } });
    expect(cors.headers.get("access-control-expose-headers")).toContain("X-Request-Id");
  });

  it("is in the log line of an unhandled error", async () => {
    const app = await createApp();
    const init = await call("POST", "/v1/init", app.token, { body: { device: { id: "d", platform: "web" } } });
    const failing = vi.spyOn(Conversation.prototype, "append").mockRejectedValue(new Error("boom"));
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const response = await call("POST", `/v1/appusers/${init.json.appUser._id}/messages`, app.token, {
        body: { role: "appUser", text: "hi" },
        headers: { "x-request-id": "failing-request-1" },
      });
      expect(response.status).toBe(500);
      expect(response.json).toEqual({ error: { code: "internal_error", description: "internal error" } });
      expect(response.headers.get("x-request-id")).toBe("failing-request-1");
      expect(logged.mock.calls.some((args) => String(args[0]).includes("failing-request-1"))).toBe(true);
    } finally {
      failing.mockRestore();
      logged.mockRestore();
    }
  });
});
