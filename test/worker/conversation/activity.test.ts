import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { Conversation } from "../../../src/conversation/object/conversation";
import { DeskRoom } from "../../../src/desk-live/room";
import { account, call, conversationOf, createApp, expectError, freshUser, hexId, invalidCredentials, outboxJobs, type TestApp } from "../support/helpers";

const ICON = "https://cdn.example.com/shop.png";

let app: TestApp;
let plain: TestApp;

beforeAll(async () => {
  [app, plain] = await Promise.all([createApp("Shop", { iconUrl: ICON }), createApp("Plain")]);
});

afterEach(() => {
  vi.restoreAllMocks();
});

const newUser = (owner: TestApp = app) => freshUser(owner);

/** What the Conversation objects' activity seam is handed (the DO runs in the tests' isolate). */
function watchActivity() {
  return vi.spyOn(Conversation.prototype, "activity");
}

const typing = (id: string, auth: Record<string, string>, body: unknown, path = `/v1/appusers/${id}/conversation/activity`) =>
  call("POST", path, auth, { body });

describe("POST /v1/appusers/{id}/conversation/activity", () => {
  it("hands the typing indicator to the conversation, as the app by default, and answers 200 {}", async () => {
    const seam = watchActivity();
    const { id } = await newUser();
    const response = await typing(id, app.server, { role: "appMaker", type: "typing:start" });
    expect(response.status, JSON.stringify(response.json)).toBe(200);
    expect(response.json).toEqual({});
    expect(seam).toHaveBeenCalledTimes(1);
    expect(seam.mock.calls[0][0]).toEqual({ activity: "typing:start", role: "appMaker", data: { name: "Shop", avatarUrl: ICON } });
  });

  it("shows the name and avatar given, and stops", async () => {
    const seam = watchActivity();
    const { id } = await newUser();
    const shown = { name: "Alice from support", avatarUrl: "https://cdn.example.com/alice.png" };
    expect((await typing(id, app.server, { role: "appMaker", type: "typing:stop", ...shown })).status).toBe(200);
    expect(seam.mock.calls[0][0]).toEqual({ activity: "typing:stop", role: "appMaker", data: shown });
  });

  it("leaves out the avatar of an app without an icon", async () => {
    const seam = watchActivity();
    const { id } = await newUser(plain);
    expect((await typing(id, plain.server, { role: "appMaker", type: "typing:start" })).status).toBe(200);
    expect(seam.mock.calls[0][0]).toEqual({ activity: "typing:start", role: "appMaker", data: { name: "Plain" } });
  });

  it("reaches the conversation of a user named by userId, and the account under /v1/apps/{appId}", async () => {
    const seam = watchActivity();
    const { id, userId } = await newUser();
    expect((await typing(encodeURIComponent(userId), app.server, { role: "appMaker", type: "typing:start" })).status).toBe(200);
    const viaAccount = await typing(id, await account(), { role: "appMaker", type: "typing:stop" }, `/v1/apps/${app.appId}/appusers/${id}/conversation/activity`);
    expect(viaAccount.status, JSON.stringify(viaAccount.json)).toBe(200);
    expect(seam).toHaveBeenCalledTimes(2);
  });

  it("stores nothing and sends no webhook", async () => {
    const owner = await createApp("quiet");
    await call("POST", "/v1/webhooks", owner.server, { body: { target: "https://hooks.example.com/all", triggers: ["message", "postback", "conversation:read"] } });
    const { id } = await newUser(owner);
    expect((await typing(id, owner.server, { role: "appMaker", type: "typing:start" })).status).toBe(200);
    expectError(await call("GET", `/v1/appusers/${id}/conversation`, owner.token), 404);
    expect(await outboxJobs(await conversationOf(id))).toEqual([]);
  });

  it.each([
    ["role is missing", { type: "typing:start" }, "role"],
    ["role is unknown", { role: "business", type: "typing:start" }, "role"],
    ["type is missing", { role: "appMaker" }, "type"],
    ["type is unknown", { role: "appMaker", type: "typing" }, "type"],
    ["type is conversation:read", { role: "appMaker", type: "conversation:read" }, "type"],
    ["name is not a string", { role: "appMaker", type: "typing:start", name: 5 }, "name"],
    ["avatarUrl is not a URL", { role: "appMaker", type: "typing:start", avatarUrl: "me.png" }, "avatarUrl"],
    ["the body is empty", undefined, "role"],
  ])("answers 400 naming the field when %s", async (_, body, field) => {
    const seam = watchActivity();
    const { id } = await newUser();
    expectError(await typing(id, app.server, body), 400, field);
    expect(seam).not.toHaveBeenCalled();
  });

  it("answers 400 on malformed JSON and 404 for an unknown user", async () => {
    const { id } = await newUser();
    expectError(await call("POST", `/v1/appusers/${id}/conversation/activity`, { ...app.server, "content-type": "application/json" }, { raw: "{role" }), 400);
    expectError(await typing(hexId(), app.server, { role: "appMaker", type: "typing:start" }), 404, "appUserId");
  });

  it("refuses every invalid credential (401)", async () => {
    const { id } = await newUser();
    for (const [name, auth] of await invalidCredentials(app)) {
      const response = await typing(id, auth, { role: "appMaker", type: "typing:start" });
      expect(response.status, name).toBe(401);
      expect(response.headers.get("www-authenticate"), name).toBeTruthy();
    }
  });

  it("takes the user's own typing from any credential of theirs, for the app's open Desks, not their messenger", async () => {
    const seam = watchActivity();
    const desk = vi.spyOn(DeskRoom.prototype, "typing");
    const { id, userId } = await newUser();
    for (const auth of [await app.user(userId), app.token, app.server]) {
      expect((await typing(id, auth, { role: "appUser", type: "typing:start" })).status).toBe(200);
    }
    expect(desk.mock.calls).toEqual([[id, true], [id, true], [id, true]]);
    expect(seam).not.toHaveBeenCalled();
    expectError(await typing(id, await app.user("someone-else"), { role: "appUser", type: "typing:start" }), 403);
  });

  it("refuses the app token, the user's own JWT and an account JWT outside /v1/apps/{appId} (403)", async () => {
    const seam = watchActivity();
    const { id, userId } = await newUser();
    for (const [name, auth] of [
      ["the app token", app.token],
      ["the user's own JWT", await app.user(userId)],
      ["another user's JWT", await app.user("someone-else")],
      ["an account JWT", await account()],
    ] as const) {
      const response = await typing(id, auth, { role: "appMaker", type: "typing:start" });
      expect(response.status, name).toBe(403);
      expectError(response, 403);
    }
    expect(seam).not.toHaveBeenCalled();
  });

  it("does not reach another app's user (404)", async () => {
    const { id } = await newUser();
    expectError(await typing(id, plain.server, { role: "appMaker", type: "typing:start" }), 404);
    expectError(await typing(id, await account(), { role: "appMaker", type: "typing:start" }, `/v1/apps/${plain.appId}/appusers/${id}/conversation/activity`), 404);
  });
});
