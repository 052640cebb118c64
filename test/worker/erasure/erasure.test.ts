import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { config } from "../../../src/config";
import type { AppEraser } from "../../../src/erasure/app-eraser";
import {
  account,
  BASE,
  call,
  conversationOf,
  createApp,
  expectError,
  freshUser,
  hexId,
  holdOutboxAlarms,
  invalidCredentials,
  outboxJobs,
  runQueue,
  storedMessages,
  type TestApp,
} from "../support/helpers";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 1]);

let app: TestApp;
let other: TestApp;

beforeAll(async () => {
  [app, other] = await Promise.all([createApp("lifecycle"), createApp("lifecycle other")]);
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** A user of `owner` signed in on a device of its own (push token and info), with a profile. */
async function personWithDevice(owner: TestApp) {
  const user = await freshUser(owner, { givenName: "Ada", surname: "Lovelace", email: "ada@example.com", properties: { plan: "gold" } });
  const deviceId = `device-${hexId()}`;
  const init = await call("POST", "/v1/init", await owner.user(user.userId), {
    body: { device: { id: deviceId, platform: "ios", pushNotificationToken: "push-token", appVersion: "1.2", info: { os: "iOS 18" } }, userId: user.userId },
  });
  expect(init.status, JSON.stringify(init.json)).toBe(200);
  return { ...user, deviceId };
}

const say = (owner: TestApp, id: string, text: string, role = "appUser") =>
  call("POST", `/v1/appusers/${id}/messages`, role === "appUser" ? owner.token : owner.server, { body: { role, text } });

async function uploadImage(owner: TestApp, id: string) {
  const data = new FormData();
  data.append("source", new File([PNG], "image.png", { type: "image/png" }));
  data.append("role", "appUser");
  const uploaded = await call("POST", `/v1/appusers/${id}/images`, owner.token, { raw: data });
  expect(uploaded.status, JSON.stringify(uploaded.json)).toBe(201);
  const mediaUrl: string = uploaded.json.message.mediaUrl;
  return { message: uploaded.json.message, key: new URL(mediaUrl).pathname.split("/").pop()!, path: new URL(mediaUrl).pathname };
}

const getMedia = async (path: string) => (await exports.default.fetch(new Request(`${BASE}${path}`))).status;

const userRows = (id: string) => env.DB.prepare("SELECT * FROM app_users WHERE id = ?").bind(id).all();

/** What a Conversation object stores: its messages, outbox and subscribers, and whether it is erased. */
async function storageOf(appUserId: string) {
  const stub = await conversationOf(appUserId);
  return runInDurableObject(stub, async (_instance, state) => {
    const tables = state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%'")
      .toArray()
      .map((row) => row.name);
    const count = (table: string) =>
      tables.includes(table) ? state.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n : 0;
    return {
      messages: count("messages"),
      outbox: count("outbox"),
      postbacks: count("postbacks"),
      subscribers: count("subscribers"),
      erased: (await state.storage.get<boolean>("erased")) ?? false,
    };
  });
}

/**
 * The refusals every deletion endpoint owes, checked with nothing deleted: credentials that
 * identify no one (401), the app token and appUser JWTs (403), another app's credentials and
 * the account under another app's path (404).
 */
async function expectDeleteRefusals(path: (id: string) => string, user: { id: string; userId: string }) {
  for (const [name, auth] of await invalidCredentials(app)) {
    expect((await call("DELETE", path(user.id), auth)).status, name).toBe(401);
  }
  expectError(await call("DELETE", path(user.id), app.token), 403);
  expectError(await call("DELETE", path(user.id), await app.user(user.userId)), 403);
  expectError(await call("DELETE", path(user.id), await app.user(`someone-${hexId()}`)), 403);
  expectError(await call("DELETE", path(user.id), other.server), 404);
  expectError(await call("DELETE", path(user.id), other.token), 403);
  expectError(await call("DELETE", `/v1/apps/${other.appId}${path(user.id)}`, await account()), 404);
  expectError(await call("DELETE", path(`no-such-user-${hexId()}`), app.server), 404);
}

describe("DELETE /v1/appusers/{appUserId}/profile", () => {
  it("erases the profile, the device's personal fields and the names on earlier messages; _id, userId and messages stay", async () => {
    const user = await personWithDevice(app);
    const said = await call("POST", `/v1/appusers/${user.id}/messages`, app.server, { body: { role: "appUser", text: "hello", email: "ada@example.com" } });
    expect(said.json.message).toMatchObject({ name: "Ada Lovelace", email: "ada@example.com", avatarUrl: expect.stringContaining("gravatar") });
    await say(app, user.id, "reply", "appMaker");

    const erased = await call("DELETE", `/v1/appusers/${encodeURIComponent(user.userId)}/profile`, app.server);
    expect(erased.status, JSON.stringify(erased.json)).toBe(200);
    expect(erased.json.appUser).toEqual({
      _id: user.id,
      userId: user.userId,
      signedUpAt: expect.any(String),
      properties: {},
      conversationStarted: true,
      credentialRequired: false,
    });

    const [row] = (await userRows(user.id)).results as any[];
    expect(row).toMatchObject({ given_name: null, surname: null, email: null, properties: "{}" });
    const device = await env.DB.prepare("SELECT * FROM devices WHERE app_id = ? AND id = ?").bind(app.appId, user.deviceId).first<any>();
    expect(device).toMatchObject({ push_notification_token: null, info: "{}", platform: "ios" });

    const messages = storedMessages(await (await conversationOf(user.id)).newest());
    expect(messages.map((m) => m.text)).toEqual(["hello", "reply"]);
    expect(messages[0].name).toBeUndefined();
    expect(messages[0].email).toBeUndefined();
    expect(messages[0].avatarUrl).toBeUndefined();
    expect((await call("GET", `/v1/appusers/${user.id}`, app.server)).json.appUser).toEqual(erased.json.appUser);
  });

  it("works under /v1/apps/{appId} with the account credential", async () => {
    const user = await freshUser(app, { givenName: "Grace" });
    const erased = await call("DELETE", `/v1/apps/${app.appId}/appusers/${user.id}/profile`, await account());
    expect(erased.status).toBe(200);
    expect(erased.json.appUser.givenName).toBeUndefined();
  });

  it("refuses every credential but app scope, and another app's ids, changing nothing", async () => {
    const user = await freshUser(app, { givenName: "Kept" });
    await expectDeleteRefusals((id) => `/v1/appusers/${id}/profile`, user);
    expect(((await userRows(user.id)).results[0] as any).given_name).toBe("Kept");
  });
});

describe("DELETE /v1/appusers/{appUserId}/messages", () => {
  it.each([["/messages"], ["/conversation/messages"]])(
    "erases every message (%s), their images and pending deliveries; later messages still come later",
    async (suffix) => {
      const user = await freshUser(app);
      await say(app, user.id, "one");
      const image = await uploadImage(app, user.id);
      const last = await say(app, user.id, "two");
      expect(await getMedia(image.path)).toBe(200);

      const erased = await call("DELETE", `/v1/appusers/${user.id}${suffix}`, app.server);
      expect(erased.status, JSON.stringify(erased.json)).toBe(200);
      expect(erased.json).toEqual({});

      expect(await env.MEDIA.head(image.key)).toBeNull();
      expect(await getMedia(image.path)).toBe(404);
      expectError(await call("GET", `/v1/appusers/${user.id}/conversation`, app.token), 404);
      expect((await call("GET", `/v1/appusers/${user.id}/messages`, app.token)).json.messages).toEqual([]);
      expect(await storageOf(user.id)).toMatchObject({ messages: 0, outbox: 0, postbacks: 0, erased: false });

      const next = await say(app, user.id, "after");
      expect(next.status).toBe(201);
      expect(next.json.message.received).toBeGreaterThan(last.json.message.received);
      expect(next.json.conversation.messages.map((m: any) => m.text)).toEqual(["after"]);
    },
  );

  it("drops the outbox jobs of the erased messages in the same transaction", async () => {
    const owner = await createApp("lifecycle outbox");
    await call("POST", "/v1/webhooks", owner.server, { body: { target: "https://hooks.example.com/x" } });
    holdOutboxAlarms();
    const user = await freshUser(owner);
    await say(owner, user.id, "queued");
    const stub = await conversationOf(user.id);
    expect(await outboxJobs(stub)).toHaveLength(1);
    expect((await call("DELETE", `/v1/appusers/${user.id}/messages`, owner.server)).status).toBe(200);
    expect(await outboxJobs(stub)).toEqual([]);
  });

  it("keeps the consumer from delivering jobs of erased messages already in the queue", async () => {
    const owner = await createApp("lifecycle queued");
    const hook = (await call("POST", "/v1/webhooks", owner.server, { body: { target: "https://hooks.example.com/y" } })).json.webhook;
    holdOutboxAlarms();
    const user = await freshUser(owner);
    await say(owner, user.id, "in the queue");
    const [job] = await outboxJobs(await conversationOf(user.id));
    expect((await call("DELETE", `/v1/appusers/${user.id}/messages`, owner.server)).status).toBe(200);
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    const { result } = await runQueue("parley-webhooks", [{ body: job }]);
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(result.explicitAcks).toHaveLength(1);
    const records = await env.DB.prepare("SELECT * FROM webhook_deliveries WHERE webhook_id = ?").bind(hook._id).all();
    expect(records.results).toEqual([]);
  });

  it("refuses every credential but app scope, and another app's ids, deleting nothing", async () => {
    const user = await freshUser(app);
    await say(app, user.id, "kept");
    await expectDeleteRefusals((id) => `/v1/appusers/${id}/messages`, user);
    expect((await storageOf(user.id)).messages).toBe(1);
  });

  it("never resurrects a message that was stored before it, when racing posts", async () => {
    const user = await freshUser(app);
    const before = await Promise.all(Array.from({ length: 5 }, (_, i) => say(app, user.id, `before ${i}`)));
    const [, ...racing] = await Promise.all([
      call("DELETE", `/v1/appusers/${user.id}/messages`, app.server),
      ...Array.from({ length: 5 }, (_, i) => say(app, user.id, `racing ${i}`)),
    ]);
    const left = storedMessages(await (await conversationOf(user.id)).newest()).map((m) => m._id);
    for (const posted of before) expect(left).not.toContain(posted.json.message._id);
    const racingIds = racing.map((r) => r.json.message._id);
    for (const id of left) expect(racingIds).toContain(id);
  });
});

describe("DELETE /v1/appusers/{appUserId}/messages/{messageId}", () => {
  it("erases one message and its image, from every page; the others stay", async () => {
    const user = await freshUser(app);
    const kept = await say(app, user.id, "kept");
    const image = await uploadImage(app, user.id);
    const erased = await call("DELETE", `/v1/appusers/${user.id}/conversation/messages/${image.message._id}`, app.server);
    expect(erased.status, JSON.stringify(erased.json)).toBe(200);
    expect(await env.MEDIA.head(image.key)).toBeNull();
    expect(await getMedia(image.path)).toBe(404);
    const page = await call("GET", `/v1/appusers/${user.id}/messages?after=0`, app.token);
    expect(page.json.messages.map((m: any) => m._id)).toEqual([kept.json.message._id]);
    const again = await call("DELETE", `/v1/appusers/${user.id}/messages/${image.message._id}`, app.server);
    expectError(again, 404, "messageId");
  });

  it("answers 404 for a message of another conversation, deleting nothing", async () => {
    const [alice, bob] = [await freshUser(app), await freshUser(app)];
    const hers = await say(app, alice.id, "alice's");
    expectError(await call("DELETE", `/v1/appusers/${bob.id}/messages/${hers.json.message._id}`, app.server), 404, "messageId");
    expectError(await call("DELETE", `/v1/apps/${other.appId}/appusers/${alice.id}/messages/${hers.json.message._id}`, await account()), 404);
    expect((await storageOf(alice.id)).messages).toBe(1);
  });

  it("refuses every credential but app scope", async () => {
    const user = await freshUser(app);
    const message = await say(app, user.id, "kept");
    await expectDeleteRefusals((id) => `/v1/appusers/${id}/messages/${message.json.message._id}`, user);
    expect((await storageOf(user.id)).messages).toBe(1);
  });

  it("leaves another app's image alone when the message names its URL", async () => {
    const victim = await freshUser(other);
    const image = await uploadImage(other, victim.id);
    const attacker = await freshUser(app);
    const posted = await call("POST", `/v1/appusers/${attacker.id}/messages`, app.server, {
      body: { role: "appMaker", text: "look", mediaUrl: `${BASE}${image.path}`, mediaType: "image/png" },
    });
    expect(posted.status).toBe(201);
    expect((await call("DELETE", `/v1/appusers/${attacker.id}/messages/${posted.json.message._id}`, app.server)).status).toBe(200);
    expect(await env.MEDIA.head(image.key)).not.toBeNull();
  });
});

describe("DELETE /v1/appusers/{appUserId}", () => {
  it("deletes the user everywhere: D1 rows, conversation storage and images; a later init makes a new user", async () => {
    const user = await personWithDevice(app);
    await say(app, user.id, "hello");
    const image = await uploadImage(app, user.id);
    const deleted = await call("DELETE", `/v1/appusers/${user.id}`, app.server);
    expect(deleted.status, JSON.stringify(deleted.json)).toBe(200);
    expect(deleted.json).toEqual({});

    expect((await userRows(user.id)).results).toEqual([]);
    const links = await env.DB.prepare("SELECT * FROM device_users WHERE app_user_id = ?").bind(user.id).all();
    expect(links.results).toEqual([]);
    const device = await env.DB.prepare("SELECT * FROM devices WHERE app_id = ? AND id = ?").bind(app.appId, user.deviceId).first();
    expect(device).toBeNull();
    expect(await env.MEDIA.head(image.key)).toBeNull();
    expect(await getMedia(image.path)).toBe(404);
    expectError(await call("GET", `/v1/appusers/${user.id}`, app.server), 404);
    expectError(await say(app, user.id, "too late"), 404);

    const again = await call("POST", "/v1/init", await app.user(user.userId), { body: { device: { id: user.deviceId, platform: "ios" }, userId: user.userId } });
    expect(again.status).toBe(200);
    expect(again.json.appUser._id).not.toBe(user.id);
    expect(again.json.appUser.givenName).toBeUndefined();
  });

  it("erases the conversation object's storage, leaving only the mark that refuses later appends", async () => {
    const user = await freshUser(app);
    await say(app, user.id, "hello");
    const stub = await conversationOf(user.id);
    expect((await call("DELETE", `/v1/appusers/${user.id}`, app.server)).status).toBe(200);
    const storage = await runInDurableObject(stub, async (_instance, state) => ({
      messages: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages").one().n,
      meta: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM meta").one().n,
      erased: await state.storage.get("erased"),
    }));
    expect(storage).toEqual({ messages: 0, meta: 0, erased: true });
    const refused = await stub.append([]).then(() => null, (error: Error) => error);
    expect(refused?.message).toMatch(/erased/);
  });

  it("deletes the users merged into it, whose ids resolved to it", async () => {
    const deviceId = `merge-device-${hexId()}`;
    const anonymous = (await call("POST", "/v1/init", app.token, { body: { device: { id: deviceId, platform: "web" } } })).json.appUser;
    await say(app, anonymous._id, "as a visitor");
    const userId = `merged-${hexId()}`;
    const signedIn = (await call("POST", "/v1/init", await app.user(userId), { body: { device: { id: deviceId, platform: "web" }, userId } })).json.appUser;
    expect((await call("GET", `/v1/appusers/${anonymous._id}`, app.server)).json.appUser._id).toBe(signedIn._id);

    expect((await call("DELETE", `/v1/appusers/${anonymous._id}`, app.server)).status).toBe(200);
    expect((await userRows(anonymous._id)).results).toEqual([]);
    expect((await userRows(signedIn._id)).results).toEqual([]);
    expectError(await call("GET", `/v1/appusers/${userId}`, app.server), 404);
  });

  it("closes the realtime subscriptions of the user: a socket left with none is closed", async () => {
    const { connectedSocket, subscribe } = await import("../support/bayeux");
    const user = await freshUser(app);
    await say(app, user.id, "hello");
    const conversationId = (await call("GET", `/v1/appusers/${user.id}/conversation`, app.server)).json.conversation._id;
    const { socket, clientId } = await connectedSocket();
    const channel = `/v1/conversations/${conversationId}`;
    expect(await subscribe(socket, clientId, channel, { appUserId: user.id, appToken: app.appToken })).toMatchObject({ successful: true });
    expect((await storageOf(user.id)).subscribers).toBe(1);
    expect((await call("DELETE", `/v1/appusers/${user.id}`, app.server)).status).toBe(200);
    expect((await socket.waitClosed()).code).toBe(1008);
  });

  it("refuses every credential but app scope, and another app's ids, deleting nothing", async () => {
    const user = await freshUser(app);
    await say(app, user.id, "kept");
    await expectDeleteRefusals((id) => `/v1/appusers/${id}`, user);
    expect((await userRows(user.id)).results).toHaveLength(1);
    expect(await storageOf(user.id)).toMatchObject({ messages: 1, erased: false });
  });

  it("racing an image post leaves no message and no image behind", async () => {
    for (let round = 0; round < 5; round++) {
      const user = await freshUser(app);
      await say(app, user.id, "first");
      const stub = await conversationOf(user.id);
      const data = new FormData();
      data.append("source", new File([PNG], "image.png", { type: "image/png" }));
      data.append("role", "appUser");
      await Promise.all([
        call("POST", `/v1/appusers/${user.id}/images`, app.token, { raw: data }),
        call("DELETE", `/v1/appusers/${user.id}`, app.server),
        say(app, user.id, "racing"),
      ]);
      const left = await runInDurableObject(stub, (_instance, state) =>
        state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages").one().n,
      );
      expect(left).toBe(0);
      const objects = await env.MEDIA.list({ include: ["customMetadata"] });
      expect(objects.objects.filter((o) => o.customMetadata?.appUserId === user.id)).toEqual([]);
    }
  });
});

describe("DELETE /v1/apps/{appId}", () => {
  const eraserOf = (appId: string) => {
    const namespace = env.APP_ERASER as unknown as DurableObjectNamespace<AppEraser>;
    return namespace.get(namespace.idFromName(appId));
  };

  it("stops the app's credentials at once, then erases every user in the background", async () => {
    const doomed = await createApp("doomed with users");
    const users = await Promise.all(Array.from({ length: 60 }, () => freshUser(doomed)));
    await Promise.all(users.map((user) => say(doomed, user.id, "hello")));
    const image = await uploadImage(doomed, users[0].id);
    const userHeaders = await doomed.user(users[1].userId);
    const conversations = await Promise.all(users.slice(0, 3).map((user) => conversationOf(user.id)));

    expect((await call("DELETE", `/v1/apps/${doomed.appId}`, await account())).status).toBe(200);
    expectError(await call("GET", `/v1/appusers/${users[1].id}`, doomed.token), 401);
    expectError(await call("GET", `/v1/appusers/${users[1].id}`, userHeaders), 401);
    expectError(await call("GET", `/v1/apps/${doomed.appId}/appusers/${users[1].id}`, await account()), 404);
    expect(await getMedia(image.path)).toBe(404);

    const eraser = eraserOf(doomed.appId);
    for (let step = 0; step < 10 && (await runDurableObjectAlarm(eraser)); step++);
    const left = await env.DB.batch([
      env.DB.prepare("SELECT * FROM apps WHERE id = ?").bind(doomed.appId),
      env.DB.prepare("SELECT * FROM app_users WHERE app_id = ?").bind(doomed.appId),
      env.DB.prepare("SELECT * FROM app_keys WHERE app_id = ?").bind(doomed.appId),
      env.DB.prepare("SELECT * FROM devices WHERE app_id = ?").bind(doomed.appId),
    ]);
    expect(left.map((r) => r.results)).toEqual([[], [], [], []]);
    expect(await env.MEDIA.head(image.key)).toBeNull();
    for (const stub of conversations) {
      const erased = await runInDurableObject(stub, async (_instance, state) => ({
        messages: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages").one().n,
        erased: await state.storage.get("erased"),
      }));
      expect(erased).toEqual({ messages: 0, erased: true });
    }
  });

  it("never writes a user or a device of an app being deleted, whatever the isolate trusts (migrations/0008)", async () => {
    const doomed = await createApp("doomed, with a device");
    const user = await freshUser(doomed);
    const signIn = (deviceId: string) =>
      call("POST", "/v1/init", doomed.token, { body: { device: { id: deviceId, platform: "web" }, userId: user.userId } });
    expect((await signIn("known")).status).toBe(200);
    const rows = () =>
      env.DB.prepare("SELECT (SELECT COUNT(*) FROM app_users WHERE app_id = ?1) AS users, (SELECT COUNT(*) FROM devices WHERE app_id = ?1) AS devices")
        .bind(doomed.appId)
        .first();
    const before = await rows();
    await env.DB.prepare("UPDATE apps SET deleted_at = ? WHERE id = ?").bind(Date.now(), doomed.appId).run();
    // The app token and the user come from this isolate's caches: only D1 can refuse.
    expectError(await signIn("known"), 404, "appId");
    expectError(await signIn("new"), 404, "appId");
    expectError(await call("POST", "/v1/init", doomed.token, { body: { device: { id: "anonymous", platform: "web" } } }), 404, "appId");
    expect(await rows()).toEqual(before);
    await env.DB.prepare("UPDATE apps SET deleted_at = NULL WHERE id = ?").bind(doomed.appId).run();
  });

  it("refuses a stale credential of an app being deleted: app routes at once, app-user routes within the cache bound", async () => {
    const doomed = await createApp("doomed elsewhere");
    const user = await freshUser(doomed);
    await call("GET", `/v1/appusers/${user.id}`, doomed.token);
    // What another isolate sees: D1 says the app is being deleted, its caches do not know yet.
    await env.DB.prepare("UPDATE apps SET deleted_at = ? WHERE id = ?").bind(Date.now(), doomed.appId).run();
    expectError(await call("GET", "/v1/webhooks", doomed.server), 404);
    // The list and the search check that the app is live in their own query.
    expectError(await call("GET", "/v1/conversations", doomed.server), 404);
    expectError(await call("GET", "/v1/conversations/search?q=hello", doomed.server), 404);
    expectError(await call("POST", "/v1/init", doomed.token, { body: { device: { id: "d", platform: "web" } } }), 404);
    // The app user comes from the isolate cache (src/auth/app-users.ts) until it expires.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    vi.setSystemTime(Date.now() + config(env).authCacheSeconds * 1000 + 1);
    try {
      // The app token too has expired from its cache by then: no app has it.
      expectError(await call("GET", `/v1/appusers/${user.id}`, doomed.token), 401);
      expectError(await call("POST", `/v1/appusers/${user.id}/messages`, doomed.server, { body: { role: "appMaker", text: "x" } }), 404);
    } finally {
      vi.useRealTimers();
    }
    await env.DB.prepare("UPDATE apps SET deleted_at = NULL WHERE id = ?").bind(doomed.appId).run();
  });

  it("an armed eraser whose app was never marked deleted erases nothing", async () => {
    const kept = await createApp("kept");
    const user = await freshUser(kept);
    const eraser = eraserOf(kept.appId);
    await eraser.arm(kept.appId);
    expect(await runDurableObjectAlarm(eraser)).toBe(true);
    expect((await userRows(user.id)).results).toHaveLength(1);
    expect((await call("GET", `/v1/appusers/${user.id}`, kept.server)).status).toBe(200);
  });
});

describe("bounds", () => {
  it("caps an app's keys at 20 and whispers at 100, with a 400 naming the resource", async () => {
    const capped = await createApp("capped");
    const acct = await account();
    for (let i = 1; i < 20; i++) expect((await call("POST", `/v1/apps/${capped.appId}/keys`, acct, { body: { name: `k${i}` } })).status).toBe(201);
    expectError(await call("POST", `/v1/apps/${capped.appId}/keys`, acct, { body: { name: "one too many" } }), 400, "keys");
    for (let i = 0; i < 100; i++) {
      expect((await call("POST", "/v1/whispers", capped.server, { body: { event: `e${i}`, text: "t" } })).status).toBe(201);
    }
    expectError(await call("POST", "/v1/whispers", capped.server, { body: { event: "e", text: "t" } }), 400, "whispers");
  });

  it("fans one event out to at most 10 webhook jobs, whatever the caller passes", async () => {
    holdOutboxAlarms();
    const user = await freshUser(app);
    const stub = await conversationOf(user.id);
    const webhooks = Array.from({ length: 15 }, () => ({ id: hexId(), triggers: ["message" as const] }));
    await stub.append(
      [{ _id: hexId(), type: "text", authorId: user.id, role: "appUser", text: "fan", actions: [], source: { type: "api" } }],
      { webhook: { webhooks, appUser: {} } },
    );
    expect(await outboxJobs(stub)).toHaveLength(10);
  });

  it("prunes the delivery log to the newest DELIVERY_LOG_KEEP per webhook, none older than DELIVERY_LOG_DAYS", async () => {
    const { createMessageBatch, createExecutionContext, getQueueResult } = await import("cloudflare:test");
    const { handleDeliveryBatch } = await import("../../../src/delivery/consumer");
    const { CHANNELS } = await import("../../../src/channels/registry");
    const owner = await createApp("retention");
    const hook = (await call("POST", "/v1/webhooks", owner.server, { body: { target: "https://hooks.example.com/r" } })).json.webhook;
    const now = Date.now();
    const insert = (id: string, createdAt: number) =>
      env.DB.prepare(
        `INSERT INTO webhook_deliveries (id, webhook_id, message_id, trigger, attempts, outcome, created_at, updated_at)
         VALUES (?, ?, 'm', 'message:appUser', 1, 'delivered', ?, ?)`,
      ).bind(id, hook._id, createdAt, createdAt);
    await env.DB.batch([
      insert("old", now - 3 * 86_400_000),
      ...Array.from({ length: 5 }, (_, i) => insert(`recent-${i}`, now - 60_000 + i)),
    ]);
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("ok"));
    const job = { conversation: "c", deliveryId: "newest", webhookId: hook._id, messageId: hexId(), trigger: "message:appUser" as const, body: "{}" };
    const batch = createMessageBatch("parley-webhooks", [{ id: "1", timestamp: new Date(), attempts: 1, body: job }]);
    const ctx = createExecutionContext();
    await handleDeliveryBatch(batch, { ...env, DELIVERY_LOG_KEEP: "3", DELIVERY_LOG_DAYS: "1" } as Env, CHANNELS);
    await getQueueResult(batch, ctx);
    const { results } = await env.DB.prepare("SELECT id FROM webhook_deliveries WHERE webhook_id = ? ORDER BY created_at DESC").bind(hook._id).all();
    expect(results.map((r: any) => r.id)).toEqual(["newest", "recent-4", "recent-3"]);
  });
});
