import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { connectedSocket, connectNow, handshake, poll, Socket, subscribe, newUser, type User } from "../support/bayeux";
import { sign, unsignedJwt } from "../../support/jwt.ts";
import { call, conversationOf, createApp, type TestApp } from "../support/helpers";

let app: TestApp;
let other: TestApp;

const reply = (user: User, text: string, target = app) =>
  call("POST", `/v1/appusers/${user._id}/messages`, target.server, { body: { role: "appMaker", text } });

beforeAll(async () => {
  [app, other] = await Promise.all([createApp("realtime"), createApp("realtime other")]);
});

describe("handshake", () => {
  it("answers over HTTP with a client id, the connection types and advice", async () => {
    const { status, json } = await poll([{ channel: "/meta/handshake", version: "1.0", supportedConnectionTypes: ["long-polling"], id: "1" }]);
    expect(status).toBe(200);
    expect(json).toEqual([
      {
        channel: "/meta/handshake",
        id: "1",
        successful: true,
        version: "1.0",
        clientId: expect.stringMatching(/^[0-9a-z]{32,33}$/),
        supportedConnectionTypes: ["websocket", "long-polling", "cross-origin-long-polling", "callback-polling"],
        advice: { reconnect: "retry", interval: 0, timeout: expect.any(Number) },
      },
    ]);
  });

  it.each([
    [{ channel: "/meta/handshake", supportedConnectionTypes: ["long-polling"] }, /^402:version:/],
    [{ channel: "/meta/handshake", version: "1.0" }, /^402:supportedConnectionTypes:/],
    [{ channel: "/meta/handshake", version: "1.0", supportedConnectionTypes: ["carrier-pigeon"] }, /^301:carrier-pigeon:/],
  ])("refuses %j in Bayeux form", async (message, error) => {
    const { json } = await poll([message]);
    expect(json[0]).toMatchObject({ channel: "/meta/handshake", successful: false, error: expect.stringMatching(error) });
  });

  it("works over a socket too", async () => {
    const socket = await Socket.open();
    const answer = await socket.request({ channel: "/meta/handshake", version: "1.0", supportedConnectionTypes: ["websocket"] });
    expect(answer).toMatchObject({ successful: true, clientId: expect.any(String) });
    const connect = await socket.request(connectNow(answer.clientId));
    expect(connect).toMatchObject({ successful: true, advice: { reconnect: "retry", interval: 0 } });
    socket.close();
  });

  it("holds a socket's connect until it falls due, so that a drop fails it at once", async () => {
    const user = await newUser(app);
    const { socket, clientId } = await connectedSocket();
    await subscribe(socket, clientId, user.channel, { appUserId: user._id, appToken: app.appToken });
    socket.send([{ channel: "/meta/connect", clientId, connectionType: "websocket", id: "held" }]);
    await reply(user, "pushed while the connect is held");
    await socket.next((f) => f.data?.text === "pushed while the connect is held");
    expect(socket.received.some((f) => f.id === "held")).toBe(false);
    const [address] = await runInDurableObject(await conversationOf(user._id), (_instance, state) =>
      state.storage.sql.exec<{ client: string }>("SELECT client FROM subscribers").toArray().map((row) => row.client),
    );
    const holder = env.REALTIME.get(env.REALTIME.idFromString(address));
    // The alarm set for the held connect runs once the clock has passed it.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 31_000 });
    try {
      expect(await runDurableObjectAlarm(holder)).toBe(true);
    } finally {
      vi.useRealTimers();
    }
    expect(await socket.next((f) => f.id === "held")).toMatchObject({ channel: "/meta/connect", successful: true, advice: { interval: 0 } });
    socket.close();
  });
});

describe("delivery over a WebSocket", () => {
  it("publishes every message of the conversation once, in received order, from REST and from the user", async () => {
    const user = await newUser(app);
    const { socket, clientId } = await connectedSocket();
    expect(await subscribe(socket, clientId, user.channel, { appUserId: user._id, appToken: app.appToken })).toMatchObject({
      successful: true,
      subscription: user.channel,
    });
    const posted = await Promise.all(Array.from({ length: 12 }, (_, i) => reply(user, `reply ${i}`)));
    await call("POST", `/v1/appusers/${user._id}/messages`, app.token, { body: { role: "appUser", text: "from the user" } });
    await socket.next(() => socket.events(user.channel).length === 13);
    const events = socket.events(user.channel).map((event) => event.data);
    expect(events.map((m) => m._id).sort()).toEqual([...posted.map((p) => p.json.message._id), events[12]._id].sort());
    const received = events.map((m) => m.received);
    expect(received).toEqual([...received].sort((a, b) => a - b));
    expect(new Set(received).size).toBe(13);
    expect(events[12]).toMatchObject({ role: "appUser", text: "from the user", authorId: user._id });
    // The payload is the message as REST shows it.
    const page = await call("GET", `/v1/appusers/${user._id}/messages`, app.token);
    expect(page.json.messages.slice(-13)).toEqual(events);
    socket.close();
  });

  it("delivers to every subscriber of the conversation, and to none of another", async () => {
    const [alice, bob] = [await newUser(app), await newUser(app)];
    const first = await connectedSocket();
    const second = await connectedSocket();
    await subscribe(first.socket, first.clientId, alice.channel, { appUserId: alice._id, appToken: app.appToken });
    await subscribe(second.socket, second.clientId, [alice.channel, bob.channel], { appUserId: alice._id, appToken: app.appToken });
    await reply(alice, "to alice");
    await first.socket.next((f) => f.data?.text === "to alice");
    await second.socket.next((f) => f.data?.text === "to alice");
    await reply(bob, "to bob");
    await new Promise((r) => setTimeout(r, 200));
    expect(second.socket.events(bob.channel)).toEqual([]);
    first.socket.close();
    second.socket.close();
  });

  it("publishes the business's typing on the activity channel", async () => {
    const user = await newUser(app);
    const { socket, clientId } = await connectedSocket();
    const channel = `${user.channel}/activity`;
    await subscribe(socket, clientId, channel, { appUserId: user._id, appToken: app.appToken });
    const typing = await call("POST", `/v1/appusers/${user._id}/conversation/activity`, app.server, { body: { role: "appMaker", type: "typing:start" } });
    expect(typing.status).toBe(200);
    const event = await socket.next((f) => f.channel === channel);
    expect(event.data).toMatchObject({ activity: "typing:start", role: "appMaker", data: expect.any(Object) });
    socket.close();
  });

  it("stops after unsubscribe and after disconnect", async () => {
    const user = await newUser(app);
    const { socket, clientId } = await connectedSocket();
    await subscribe(socket, clientId, user.channel, { appUserId: user._id, appToken: app.appToken });
    expect(await socket.request({ channel: "/meta/unsubscribe", clientId, subscription: user.channel })).toMatchObject({ successful: true });
    await reply(user, "after unsubscribe");
    await subscribe(socket, clientId, user.channel, { appUserId: user._id, appToken: app.appToken });
    expect(await socket.request({ channel: "/meta/disconnect", clientId })).toMatchObject({ successful: true });
    await reply(user, "after disconnect");
    await new Promise((r) => setTimeout(r, 200));
    expect(socket.events(user.channel)).toEqual([]);
    expect(await socket.request(connectNow(clientId))).toMatchObject({ successful: false, advice: { reconnect: "handshake" } });
    socket.close();
  });
});

describe("subscription credentials", () => {
  let alice: User;
  let carol: User;
  let aliceJwt: string;

  beforeAll(async () => {
    alice = await newUser(app, "alice@realtime.test");
    await call("POST", "/v1/appusers", app.server, { body: { userId: "carol@realtime.test", credentialRequired: true } });
    carol = await newUser(app, "carol@realtime.test");
    aliceJwt = await sign({ scope: "appUser", userId: "alice@realtime.test" }, app.keyId, app.secret);
  });

  const accepted = () => [
    ["the app token", () => ({ appUserId: alice._id, appToken: app.appToken })],
    ["the user's JWT", () => ({ appUserId: alice._id, jwt: aliceJwt })],
    ["an app-scope JWT", async () => ({ appUserId: alice._id, jwt: await sign({ scope: "app" }, app.keyId, app.secret) })],
    ["the userId in place of the _id", () => ({ appUserId: "alice@realtime.test", appToken: app.appToken })],
  ] as const;

  it.each(accepted())("accepts %s", async (_, ext) => {
    const { socket, clientId } = await connectedSocket();
    expect(await subscribe(socket, clientId, alice.channel, await ext())).toMatchObject({ successful: true });
    socket.close();
  });

  it("accepts 2.x's credentials beside ext, at the top of the subscribe message", async () => {
    const { socket, clientId } = await connectedSocket();
    const answer = await socket.request({ channel: "/meta/subscribe", clientId, subscription: alice.channel, appUserId: alice._id, appToken: app.appToken });
    expect(answer).toMatchObject({ successful: true });
    socket.close();
  });

  const refused = () => [
    ["no credentials", () => ({ appUserId: alice._id })],
    ["no appUserId", () => ({ appToken: app.appToken })],
    ["another app's token", () => ({ appUserId: alice._id, appToken: other.appToken })],
    ["an unknown token", () => ({ appUserId: alice._id, appToken: "nope" })],
    ["another user's JWT", async () => ({ appUserId: alice._id, jwt: await sign({ scope: "appUser", userId: "mallory" }, app.keyId, app.secret) })],
    ["another app's JWT", async () => ({ appUserId: alice._id, jwt: await sign({ scope: "app" }, other.keyId, other.secret) })],
    ["an expired JWT", async () => ({ appUserId: alice._id, jwt: await sign({ scope: "appUser", userId: "alice@realtime.test" }, app.keyId, app.secret, { exp: 1 }) })],
    ["an unsigned JWT", () => ({ appUserId: alice._id, jwt: unsignedJwt({ scope: "app" }, app.keyId) })],
    ["the account JWT", async () => ({ appUserId: alice._id, jwt: await sign({ scope: "account" }, env.ACCOUNT_KEY_ID, env.ACCOUNT_SECRET) })],
    ["another user's id for this channel", () => ({ appUserId: carol._id, jwt: "x" })],
    ["an app token for a user who requires a JWT", () => ({ appUserId: carol._id, appToken: app.appToken, channel: carol.channel })],
  ] as const;

  it.each(refused())("refuses %s, and the refused client receives nothing", async (_, ext) => {
    const credentials: Record<string, unknown> = await ext();
    const channel = (credentials.channel as string | undefined) ?? alice.channel;
    delete credentials.channel;
    const { socket, clientId } = await connectedSocket();
    const answer = await subscribe(socket, clientId, channel, credentials);
    expect(answer).toMatchObject({ channel: "/meta/subscribe", successful: false, error: expect.stringMatching(/^403:/) });
    await reply(channel === carol.channel ? carol : alice, "not for you");
    await new Promise((r) => setTimeout(r, 200));
    expect(socket.events(channel)).toEqual([]);
    socket.close();
  });

  it("refuses a channel of another user, even with valid credentials for a user", async () => {
    const bob = await newUser(app);
    const { socket, clientId } = await connectedSocket();
    const answer = await subscribe(socket, clientId, bob.channel, { appUserId: alice._id, appToken: app.appToken });
    expect(answer).toMatchObject({ successful: false, error: expect.stringMatching(/^403:/) });
    socket.close();
  });

  it("accepts the user's own user channel only", async () => {
    const { socket, clientId } = await connectedSocket();
    expect(await subscribe(socket, clientId, `/v1/users/${alice._id}`, { appUserId: alice._id, appToken: app.appToken })).toMatchObject({ successful: true });
    expect(await subscribe(socket, clientId, `/v1/users/${carol._id}`, { appUserId: alice._id, appToken: app.appToken })).toMatchObject({ successful: false });
    socket.close();
  });

  it.each([
    ["/v1/conversations/*", /^403:/],
    ["/v1/**", /^403:/],
    ["/meta/connect", /^403:/],
    ["/v1/elsewhere", /^404:/],
    ["/v1/conversations/a/b/c", /^404:/],
  ])("refuses to subscribe to %s", async (channel, error) => {
    const { socket, clientId } = await connectedSocket();
    expect(await subscribe(socket, clientId, channel, { appUserId: alice._id, appToken: app.appToken })).toMatchObject({
      successful: false,
      error: expect.stringMatching(error),
    });
    socket.close();
  });

  it("refuses client publishes to any channel", async () => {
    const { socket, clientId } = await connectedSocket();
    const answer = await socket.request({ channel: alice.channel, clientId, data: { text: "spoofed" } });
    expect(answer).toMatchObject({ successful: false, error: expect.stringMatching(/^403:/) });
    socket.close();
  });
});

describe("long-polling and callback-polling", () => {
  it("holds a connect until an event arrives, and answers it with the event", async () => {
    const user = await newUser(app);
    const clientId = await handshake();
    const subscribed = await poll([{ channel: "/meta/subscribe", clientId, subscription: user.channel, id: "2", ext: { appUserId: user._id, appToken: app.appToken } }]);
    expect(subscribed.json[0]).toMatchObject({ successful: true });
    const connect = poll([{ channel: "/meta/connect", clientId, connectionType: "long-polling", id: "3" }]);
    await new Promise((r) => setTimeout(r, 100));
    await reply(user, "long-polled");
    const answer = await connect;
    expect(answer.json[0]).toMatchObject({ channel: "/meta/connect", successful: true, advice: { reconnect: "retry", interval: 0 } });
    expect(answer.json.slice(1).map((e: any) => [e.channel, e.data.text])).toEqual([[user.channel, "long-polled"]]);
  });

  it("keeps events that arrive between connects for the next one, and answers at once when told to", async () => {
    const user = await newUser(app);
    const clientId = await handshake();
    await poll([{ channel: "/meta/subscribe", clientId, subscription: user.channel, ext: { appUserId: user._id, appToken: app.appToken } }]);
    await reply(user, "queued 1");
    await reply(user, "queued 2");
    const answer = await poll([{ channel: "/meta/connect", clientId, connectionType: "long-polling", advice: { timeout: 0 } }]);
    expect(answer.json.slice(1).map((e: any) => e.data.text)).toEqual(["queued 1", "queued 2"]);
    const empty = await poll([{ channel: "/meta/connect", clientId, connectionType: "long-polling", advice: { timeout: 0 } }]);
    expect(empty.json).toHaveLength(1);
  });

  it("reads cross-origin long-polling's form body, and answers callback-polling with a script", async () => {
    const clientId = await handshake();
    const form = await call("POST", "/faye", {}, {
      raw: `message=${encodeURIComponent(JSON.stringify([{ channel: "/meta/connect", clientId, connectionType: "cross-origin-long-polling", advice: { timeout: 0 } }]))}`,
      headers: { "content-type": "text/plain;charset=UTF-8" },
    });
    expect(form.json[0]).toMatchObject({ successful: true });
    const message = encodeURIComponent(JSON.stringify([{ channel: "/meta/connect", clientId, connectionType: "callback-polling", advice: { timeout: 0 } }]));
    const script = await call("GET", `/faye?message=${message}&jsonp=__jsonp1__`);
    expect(script.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(script.json).toMatch(/^\/\*\*\/__jsonp1__\(\[\{.*"successful":true.*\}\]\);$/);
  });

  it("answers a CORS preflight for faye's long-polling headers", async () => {
    const preflight = await call("OPTIONS", "/faye", {}, {
      headers: { origin: "https://site.test", "access-control-request-method": "POST", "access-control-request-headers": "pragma" },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-headers")).toContain("pragma");
  });

  it("ends a session nobody polls: its subscriptions go, and a later connect is told to handshake", async () => {
    const user = await newUser(app);
    const clientId = await handshake();
    await poll([{ channel: "/meta/subscribe", clientId, subscription: user.channel, ext: { appUserId: user._id, appToken: app.appToken } }]);
    const session = env.REALTIME.get(env.REALTIME.idFromName(clientId));
    expect(await runDurableObjectAlarm(session)).toBe(true);
    const subscribers = await runInDurableObject(await conversationOf(user._id), (_instance, state) =>
      state.storage.sql.exec("SELECT client FROM subscribers").toArray(),
    );
    expect(subscribers).toEqual([]);
    const answer = await poll([{ channel: "/meta/connect", clientId, connectionType: "long-polling" }]);
    expect(answer.json[0]).toMatchObject({ successful: false, error: expect.stringMatching(/^401:/), advice: { reconnect: "handshake" } });
  });
});

describe("hibernation and reconnects", () => {
  it("still delivers after the socket's object and the conversation's are evicted", async () => {
    const user = await newUser(app);
    const { socket, clientId } = await connectedSocket();
    await subscribe(socket, clientId, user.channel, { appUserId: user._id, appToken: app.appToken });
    const conversation = await conversationOf(user._id);
    const [address] = await runInDurableObject(conversation, (_instance, state) =>
      state.storage.sql.exec<{ client: string }>("SELECT client FROM subscribers").toArray().map((row) => row.client),
    );
    await evictDurableObject(env.REALTIME.get(env.REALTIME.idFromString(address)));
    await evictDurableObject(conversation);
    await reply(user, "after eviction");
    expect((await socket.next((f) => f.data?.text === "after eviction")).channel).toBe(user.channel);
    // The socket's state survived in its attachment: it still knows its client.
    expect(await socket.request(connectNow(clientId))).toMatchObject({ successful: true });
    socket.close();
  });

  it("tells a second socket presenting a client id to handshake again, and the rehandshake resubscribes", async () => {
    const user = await newUser(app);
    const first = await connectedSocket();
    await subscribe(first.socket, first.clientId, user.channel, { appUserId: user._id, appToken: app.appToken });
    first.socket.close();
    const second = await Socket.open();
    const refused = await second.request(connectNow(first.clientId));
    expect(refused).toMatchObject({ successful: false, error: expect.stringMatching(/^401:/), advice: { reconnect: "handshake" } });
    const clientId = await handshake();
    expect(await subscribe(second, clientId, user.channel, { appUserId: user._id, appToken: app.appToken })).toMatchObject({ successful: true });
    await reply(user, "after the reconnect");
    await second.next((f) => f.data?.text === "after the reconnect");
    second.close();
  });

  it("moves a long-polling client that upgrades to a WebSocket, with its subscriptions and undelivered events", async () => {
    const user = await newUser(app);
    const clientId = await handshake();
    await poll([{ channel: "/meta/subscribe", clientId, subscription: user.channel, ext: { appUserId: user._id, appToken: app.appToken } }]);
    await reply(user, "queued for the poller");
    const socket = await Socket.open();
    expect(await socket.request(connectNow(clientId))).toMatchObject({ successful: true });
    await socket.next((f) => f.data?.text === "queued for the poller");
    await reply(user, "now over the socket");
    await socket.next((f) => f.data?.text === "now over the socket");
    expect(socket.events(user.channel).map((e) => e.data.text)).toEqual(["queued for the poller", "now over the socket"]);
    const stale = await poll([connectNow(clientId, "long-polling")]);
    expect(stale.json[0]).toMatchObject({ successful: false, advice: { reconnect: "handshake" } });
    socket.close();
  });

  it("forgets a closed socket's subscriptions", async () => {
    const user = await newUser(app);
    const { socket, clientId } = await connectedSocket();
    await subscribe(socket, clientId, user.channel, { appUserId: user._id, appToken: app.appToken });
    socket.close();
    const conversation = await conversationOf(user._id);
    let rows: unknown[] = [{}];
    for (let i = 0; i < 50 && rows.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      rows = await runInDurableObject(conversation, (_instance, state) => state.storage.sql.exec("SELECT client FROM subscribers").toArray());
    }
    expect(rows).toEqual([]);
  });
});

describe("bad input", () => {
  it.each([
    ["no message", () => call("GET", "/faye")],
    ["malformed JSON", () => call("POST", "/faye", {}, { raw: "[{", headers: { "content-type": "application/json" } })],
    ["an empty batch", () => poll([])],
    ["a batch of 101", () => poll(Array.from({ length: 101 }, () => ({ channel: "/meta/connect" })))],
    ["a message without a channel", () => poll([{ id: "1" }])],
    ["a bad JSON-P callback", () => call("GET", `/faye?message=${encodeURIComponent('[{"channel":"/meta/handshake"}]')}&jsonp=alert(1)`)],
  ])("answers %s with a JSON 400", async (_, send) => {
    const response = await send();
    expect(response.status).toBe(400);
    expect(response.json.error.code).toBe("bad_request");
  });

  it.each([
    [{ channel: "/meta/connect", connectionType: "long-polling" }, /^402:clientId:/],
    [{ channel: "/meta/connect", clientId: "0000000000000000000000000000000000", connectionType: "long-polling" }, /^401:/],
    [{ channel: "/meta/subscribe", clientId: "nope", subscription: "/v1/users/x" }, /^401:/],
    [{ channel: "/meta/unknown", clientId: "nope" }, /^403:/],
  ])("answers %j with a Bayeux error", async (message, error) => {
    const { json } = await poll([message]);
    expect(json[0]).toMatchObject({ successful: false, error: expect.stringMatching(error) });
  });

  it.each([
    ["a malformed frame", "{not json", 1007],
    ["an oversize frame", JSON.stringify([{ channel: "/meta/connect", pad: "x".repeat(70_000) }]), 1009],
  ])("closes a socket that sends %s", async (_, frame, code) => {
    const socket = await Socket.open();
    socket.send(frame);
    expect((await socket.waitClosed()).code).toBe(code);
  });

  it("closes a socket that floods, and other conversations keep their deliveries", async () => {
    const user = await newUser(app);
    const calm = await connectedSocket();
    await subscribe(calm.socket, calm.clientId, user.channel, { appUserId: user._id, appToken: app.appToken });
    const flood = await connectedSocket();
    for (let i = 0; i < 200; i++) flood.socket.send([{ channel: "/meta/connect", clientId: flood.clientId, connectionType: "websocket", id: `f${i}` }]);
    await reply(user, "despite the flood");
    await calm.socket.next((f) => f.data?.text === "despite the flood");
    expect((await flood.socket.waitClosed()).code).toBe(1008);
    calm.socket.close();
  });

  it("limits the subscriptions of one client", async () => {
    const users = await Promise.all(Array.from({ length: 11 }, () => newUser(app)));
    const { socket, clientId } = await connectedSocket();
    const answers = [];
    for (const user of users) answers.push(await subscribe(socket, clientId, user.channel, { appUserId: user._id, appToken: app.appToken }));
    expect(answers.slice(0, 10).every((a) => a.successful)).toBe(true);
    expect(answers[10]).toMatchObject({ successful: false, error: expect.stringMatching(/^403:/) });
    socket.close();
  });
});

