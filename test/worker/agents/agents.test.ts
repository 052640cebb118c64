// An app's agents, managed with the account API (issue 26).
import { describe, expect, it } from "vitest";
import { account, call, createApp, expectError, invalidCredentials } from "../support/helpers";

describe("agents", () => {
  it("are added, listed and removed with an account JWT", async () => {
    const app = await createApp("agents");
    const auth = await account();
    const created = await call("POST", `/v1/apps/${app.appId}/agents`, auth, { body: { email: "Ana@Example.com", name: "Ana" } });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect(created.json).toEqual({ agent: { _id: expect.any(String), email: "ana@example.com", name: "Ana" } });
    const unnamed = await call("POST", `/v1/apps/${app.appId}/agents`, auth, { body: { email: "bo@example.com" } });
    expect(unnamed.json.agent.name).toBe("bo");

    const listed = await call("GET", `/v1/apps/${app.appId}/agents`, auth);
    expect(listed.json.agents.map((a: { email: string }) => a.email)).toEqual(["ana@example.com", "bo@example.com"]);

    const removed = await call("DELETE", `/v1/apps/${app.appId}/agents/${created.json.agent._id}`, auth);
    expect(removed.status).toBe(200);
    expect(removed.json).toEqual({});
    const after = await call("GET", `/v1/apps/${app.appId}/agents`, auth);
    expect(after.json.agents.map((a: { email: string }) => a.email)).toEqual(["bo@example.com"]);
    expectError(await call("DELETE", `/v1/apps/${app.appId}/agents/${created.json.agent._id}`, auth), 404, "agentId");
  });

  it("refuse a duplicate email with 409, whatever its case", async () => {
    const app = await createApp("agents dup");
    const auth = await account();
    expect((await call("POST", `/v1/apps/${app.appId}/agents`, auth, { body: { email: "same@example.com" } })).status).toBe(201);
    expectError(await call("POST", `/v1/apps/${app.appId}/agents`, auth, { body: { email: "SAME@example.com" } }), 409, "email");
  });

  it("refuse bad input with a 400 naming the field", async () => {
    const app = await createApp("agents bad");
    const auth = await account();
    expectError(await call("POST", `/v1/apps/${app.appId}/agents`, auth, { body: {} }), 400, "email");
    expectError(await call("POST", `/v1/apps/${app.appId}/agents`, auth, { body: { email: "not an address" } }), 400, "email");
    expectError(await call("POST", `/v1/apps/${app.appId}/agents`, auth, { body: { email: "a@example.com", name: "" } }), 400, "name");
  });

  it("are the account's alone: app-scope, appUser and app-token credentials get 403, invalid ones 401", async () => {
    const app = await createApp("agents auth");
    const path = `/v1/apps/${app.appId}/agents`;
    for (const auth of [app.server, await app.user("someone"), app.token]) {
      expectError(await call("GET", path, auth), 403);
      expectError(await call("POST", path, auth, { body: { email: "x@example.com" } }), 403);
    }
    for (const [name, auth] of await invalidCredentials(app, { scope: "account" })) {
      expect((await call("GET", path, auth)).status, name).toBe(401);
    }
    expectError(await call("GET", "/v1/apps/000000000000000000000000/agents", await account()), 404);
  });
});
