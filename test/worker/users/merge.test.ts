import { describe, expect, it } from "vitest";
import { call, createApp, device, type TestApp } from "../support/helpers";

async function boot(auth: Record<string, string>, deviceId: string, userId?: string) {
  const response = await call("POST", "/v1/init", auth, { body: { device: device(deviceId), ...(userId && { userId }) } });
  expect(response.status, JSON.stringify(response.json)).toBe(200);
  return response.json.appUser;
}

async function post(app: TestApp, appUserId: string, text: string, role = "appUser") {
  const auth = role === "appMaker" ? app.server : app.token;
  const response = await call("POST", `/v1/appusers/${appUserId}/messages`, auth, { body: { text, role } });
  expect(response.status, JSON.stringify(response.json)).toBe(201);
  // The merge orders by `received`: let the clock move so that no two messages share a millisecond.
  await new Promise((resolve) => setTimeout(resolve, 2));
  return response.json.message;
}

async function messagesOf(app: TestApp, id: string) {
  const response = await call("GET", `/v1/appusers/${encodeURIComponent(id)}/conversation`, app.server);
  return response.status === 404 ? [] : response.json.conversation.messages;
}

const update = (app: TestApp, id: string, body: unknown) => call("PUT", `/v1/appusers/${id}`, app.token, { body });

const byReceived = <T extends { received: number }>(messages: T[]) => [...messages].sort((a, b) => a.received - b.received);

describe("merging an anonymous device user into the identified user who signs in there", () => {
  it.each([
    ["the app token", (app: TestApp) => app.token],
    ["an appUser JWT", (app: TestApp) => app.user("sam@example.com")],
  ])("keeps the identified user and moves everything of the anonymous one into it (signed in with %s)", async (_, signIn) => {
    const app = await createApp();
    const sam = await boot(app.token, "sam-phone", "sam@example.com");
    await update(app, sam._id, { givenName: "Sam", properties: { shared: "survivor", samOnly: true } });
    const anon = await boot(app.token, "tablet");
    await update(app, anon._id, {
      givenName: "Anon",
      surname: "Smith",
      email: "anon@example.com",
      properties: { shared: "anonymous", anonOnly: 1 },
    });

    const before = [
      await post(app, anon._id, "a1"),
      await post(app, sam._id, "s1"),
      await post(app, anon._id, "a2 (app maker)", "appMaker"),
      await post(app, sam._id, "s2"),
      await post(app, anon._id, "a3"),
    ];

    const merged = await boot(await signIn(app), "tablet", "sam@example.com");
    expect(merged).toMatchObject({
      _id: sam._id,
      userId: "sam@example.com",
      givenName: "Sam",
      surname: "Smith",
      email: "anon@example.com",
      properties: { shared: "survivor", samOnly: true, anonOnly: 1 },
      conversationStarted: true,
    });

    const after = await messagesOf(app, sam._id);
    expect(after.map((m: any) => [m._id, m.text, m.role, m.received])).toEqual(
      byReceived(before).map((m: any) => [m._id, m.text, m.role, m.received]),
    );

    const resolved = await call("GET", `/v1/appusers/${anon._id}`, app.token);
    expect(resolved.status).toBe(200);
    expect(resolved.json.appUser).toEqual(merged);

    const late = await post(app, anon._id, "posted to the old id");
    const now = await messagesOf(app, sam._id);
    expect(now).toHaveLength(before.length + 1);
    expect(now.at(-1)._id).toBe(late._id);
    expect((await messagesOf(app, anon._id)).map((m: any) => m._id)).toEqual(now.map((m: any) => m._id));
  });

  it("turns conversationStarted on when only the anonymous user had messages", async () => {
    const app = await createApp();
    const pre = await call("POST", "/v1/appusers", app.server, { body: { userId: "pre@example.com" } });
    expect(pre.json.appUser.conversationStarted).toBe(false);
    const anon = await boot(app.token, "kiosk");
    const sent = [await post(app, anon._id, "one"), await post(app, anon._id, "two")];

    const merged = await boot(app.token, "kiosk", "pre@example.com");
    expect(merged).toMatchObject({ _id: pre.json.appUser._id, conversationStarted: true });
    expect((await messagesOf(app, "pre@example.com")).map((m: any) => m._id)).toEqual(sent.map((m) => m._id));
  });

  it("keeps an anonymous user's conversation when it signs in with a new userId", async () => {
    const app = await createApp();
    const anon = await boot(app.token, "browser");
    const sent = await post(app, anon._id, "before signing up");

    const signedIn = await boot(app.token, "browser", "new@example.com");
    expect(signedIn.userId).toBe("new@example.com");
    expect((await messagesOf(app, "new@example.com")).map((m: any) => m._id)).toEqual([sent._id]);
    expect((await call("GET", `/v1/appusers/${anon._id}`, app.token)).json.appUser._id).toBe(signedIn._id);
  });

  it("is not repeated by a later init of the same device and userId", async () => {
    const app = await createApp();
    const sam = await boot(app.token, "sam-phone", "sam");
    await post(app, sam._id, "s1");
    const anon = await boot(app.token, "tablet");
    await post(app, anon._id, "a1");

    await boot(app.token, "tablet", "sam");
    const once = await messagesOf(app, "sam");
    const again = await boot(app.token, "tablet", "sam");
    expect(again._id).toBe(sam._id);
    expect(await messagesOf(app, "sam")).toEqual(once);
    expect(once).toHaveLength(2);
  });

  it("merges once when the anonymous device signs in many times at once", async () => {
    const app = await createApp();
    const sam = await boot(app.token, "sam-phone", "sam");
    const anon = await boot(app.token, "tablet");
    const sent = [await post(app, sam._id, "s1"), await post(app, anon._id, "a1"), await post(app, anon._id, "a2")];

    const signIns = await Promise.all(
      Array.from({ length: 10 }, () => call("POST", "/v1/init", app.token, { body: { device: device("tablet"), userId: "sam" } })),
    );
    expect(new Set(signIns.map((r) => r.json.appUser._id))).toEqual(new Set([sam._id]));
    expect((await messagesOf(app, "sam")).map((m: any) => m._id)).toEqual(byReceived(sent).map((m) => m._id));
  });

  it("does not merge an identified user when another userId signs in on its device", async () => {
    const app = await createApp();
    const alice = await boot(app.token, "family-ipad", "alice");
    await update(app, alice._id, { givenName: "Alice", properties: { plan: "gold" } });
    const aliceSaid = await post(app, alice._id, "from alice");
    const bob = await boot(app.token, "bobs-phone", "bob");
    const bobSaid = await post(app, bob._id, "from bob");

    const bobOnIpad = await boot(app.token, "family-ipad", "bob");
    expect(bobOnIpad._id).toBe(bob._id);
    expect(bobOnIpad.givenName).toBeUndefined();
    expect(bobOnIpad.properties).toEqual({});

    const aliceNow = await call("GET", `/v1/appusers/${alice._id}`, app.token);
    expect(aliceNow.json.appUser).toMatchObject({ _id: alice._id, userId: "alice", givenName: "Alice" });
    expect((await messagesOf(app, "alice")).map((m: any) => m._id)).toEqual([aliceSaid._id]);
    expect((await messagesOf(app, "bob")).map((m: any) => m._id)).toEqual([bobSaid._id]);
  });

  it("does not merge an identified user into a new userId signing in on its device", async () => {
    const app = await createApp();
    const alice = await boot(app.token, "shared", "alice");
    await post(app, alice._id, "from alice");
    const carol = await boot(app.token, "shared", "carol");
    expect(carol._id).not.toBe(alice._id);
    expect(carol.conversationStarted).toBe(false);
    expect(await messagesOf(app, "carol")).toEqual([]);
    expect(await messagesOf(app, "alice")).toHaveLength(1);
  });
});
