import { beforeAll, describe, expect, it } from "vitest";
import { account, call, createApp, expectError, invalidCredentials, type TestApp } from "../support/helpers";

const create = (auth: Record<string, string>, body: unknown, base = "/v1") => call("POST", `${base}/whispers`, auth, { body });

describe("/v1/whispers", () => {
  let app: TestApp;
  let other: TestApp;
  beforeAll(async () => {
    app = await createApp();
    other = await createApp();
  });

  it("creates, lists, reads and deletes whispers with an app JWT", async () => {
    const full = { event: "completed_sale", text: "Thanks!", name: "Sales", avatarUrl: "https://example.com/a.png" };
    const created = await create(app.server, full);
    expect(created.status).toBe(201);
    expect(created.json.whisper).toEqual({ _id: expect.stringMatching(/^[0-9a-f]{24}$/), ...full });
    const minimal = await create(app.server, { event: "signed_up", text: "Welcome" });
    expect(minimal.json.whisper).toEqual({ _id: expect.any(String), event: "signed_up", text: "Welcome" });

    const list = await call("GET", "/v1/whispers", app.server);
    expect(list.status).toBe(200);
    expect(list.json.whispers).toEqual([created.json.whisper, minimal.json.whisper]);

    const one = await call("GET", `/v1/whispers/${created.json.whisper._id}`, app.server);
    expect(one.json).toEqual({ whisper: created.json.whisper });

    const deleted = await call("DELETE", `/v1/whispers/${created.json.whisper._id}`, app.server);
    expect(deleted.status).toBe(200);
    expect(deleted.json).toEqual({});
    expectError(await call("GET", `/v1/whispers/${created.json.whisper._id}`, app.server), 404);
    expectError(await call("DELETE", `/v1/whispers/${created.json.whisper._id}`, app.server), 404);
    expect((await call("GET", "/v1/whispers", app.server)).json.whispers).toEqual([minimal.json.whisper]);
    await call("DELETE", `/v1/whispers/${minimal.json.whisper._id}`, app.server);
  });

  it("stops posting a deleted whisper on its event", async () => {
    const { json } = await create(app.server, { event: "short_lived", text: "soon gone" });
    const boot = await call("POST", "/v1/init", app.token, { body: { device: { id: "d", platform: "web" } } });
    const events = `/v1/appusers/${boot.json.appUser._id}/events`;
    await call("DELETE", `/v1/whispers/${json.whisper._id}`, app.server);
    expect((await call("POST", events, app.token, { body: { name: "short_lived" } })).json).toEqual({ conversationUpdated: false });
  });

  it("is reachable by the account under /v1/apps/{appId}", async () => {
    const acct = await account();
    const created = await create(acct, { event: "e", text: "t" }, `/v1/apps/${app.appId}`);
    expect(created.status).toBe(201);
    const read = await call("GET", `/v1/apps/${app.appId}/whispers/${created.json.whisper._id}`, acct);
    expect(read.json.whisper).toEqual(created.json.whisper);
    expect((await call("DELETE", `/v1/apps/${app.appId}/whispers/${created.json.whisper._id}`, acct)).status).toBe(200);
  });

  it.each([
    ["no event", { text: "t" }, "event"],
    ["an empty event", { event: "  ", text: "t" }, "event"],
    ["a numeric event", { event: 1, text: "t" }, "event"],
    ["no text", { event: "e" }, "text"],
    ["an empty text", { event: "e", text: "" }, "text"],
    ["a numeric name", { event: "e", text: "t", name: 5 }, "name"],
    ["an avatarUrl that is not a URL", { event: "e", text: "t", avatarUrl: "not a url" }, "avatarUrl"],
    ["an avatarUrl that is not http(s)", { event: "e", text: "t", avatarUrl: "javascript:alert(1)" }, "avatarUrl"],
  ])("refuses %s with a 400 naming the field", async (_, body, field) => {
    expectError(await create(app.server, body), 400, field);
  });

  it("refuses malformed JSON with a 400 and creates nothing", async () => {
    const response = await call("POST", "/v1/whispers", { ...app.server, "content-type": "application/json" }, { raw: "{event:" });
    expectError(response, 400);
    expect((await call("GET", "/v1/whispers", app.server)).json.whispers).toEqual([]);
  });

  describe("with a whisper in place", () => {
    let id: string;
    beforeAll(async () => {
      id = (await create(app.server, { event: "guarded", text: "secret" })).json.whisper._id;
    });

    const routes: Array<[string, string, () => string, unknown]> = [
      ["create", "POST", () => "/v1/whispers", { event: "intruder", text: "t" }],
      ["list", "GET", () => "/v1/whispers", undefined],
      ["read", "GET", () => `/v1/whispers/${id}`, undefined],
      ["delete", "DELETE", () => `/v1/whispers/${id}`, undefined],
    ];

    it.each(routes)("%s: 403 for the app token and an appUser JWT", async (_, method, path, body) => {
      for (const auth of [app.token, await app.user("someone")]) {
        expectError(await call(method, path(), auth, { body }), 403);
      }
      expectError(await call(method, path(), await account(), { body }), 403);
    });

    it.each(routes)("%s: 401 for credentials that identify no one", async (_, method, path, body) => {
      for (const [name, auth] of await invalidCredentials(app)) {
        const response = await call(method, path(), auth, { body });
        expect(response.status, name).toBe(401);
        expect(response.headers.get("www-authenticate"), name).toBeTruthy();
      }
    });

    it("is invisible to another app: not listed, 404 to read or delete", async () => {
      expect((await call("GET", "/v1/whispers", other.server)).json.whispers).toEqual([]);
      expectError(await call("GET", `/v1/whispers/${id}`, other.server), 404);
      expectError(await call("DELETE", `/v1/whispers/${id}`, other.server), 404);
      expectError(await call("GET", `/v1/apps/${other.appId}/whispers/${id}`, await account()), 404);
      expectError(await call("GET", `/v1/apps/${app.appId}/whispers/${id}`, other.server), 404);
    });

    it("is not triggered by another app's users", async () => {
      const boot = await call("POST", "/v1/init", other.token, { body: { device: { id: "d", platform: "ios" } } });
      const tracked = await call("POST", `/v1/appusers/${boot.json.appUser._id}/events`, other.token, { body: { name: "guarded" } });
      expect(tracked.json).toEqual({ conversationUpdated: false });
    });

    it("survives every refused call", async () => {
      const list = (await call("GET", "/v1/whispers", app.server)).json.whispers;
      expect(list.map((w: { _id: string }) => w._id)).toEqual([id]);
    });
  });
});
