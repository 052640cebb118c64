// Issue 21: the realtime channel's limits and revocation (findings 1, 2 and 5), each reproduced.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { Conversation } from "../../../src/conversation/object/conversation";
import type { Subscribers } from "../../../src/conversation/object/subscribers";
import type { RealtimeClient } from "../../../src/realtime/client";
import { connectedSocket, connectNow, handshake, poll, Socket, subscribe, type Frame, newUser, type User } from "../support/bayeux";
import { sign } from "../../support/jwt.ts";
import { account, call, createApp, type TestApp } from "../support/helpers";

const reply = (target: TestApp, user: User, text: string) =>
  call("POST", `/v1/appusers/${user._id}/messages`, target.server, { body: { role: "appMaker", text } });

const handshakeMessage = { channel: "/meta/handshake", version: "1.0", supportedConnectionTypes: ["long-polling"] };
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The socket's object, found as the conversation knows it: by the id it delivers to. */
async function socketObject(conversationId: string): Promise<DurableObjectStub<RealtimeClient>> {
  const stub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(conversationId));
  const clients = await runInDurableObject(stub, (instance: Conversation) => [...(instance as unknown as { subscribers: Subscribers }).subscribers.byClient().keys()]);
  expect(clients).toHaveLength(1);
  return env.REALTIME.get(env.REALTIME.idFromString(clients[0]));
}

/** Rewrites every socket's state of the object (its attachment), e.g. to age it. */
const ageSockets = (stub: DurableObjectStub<RealtimeClient>, change: (state: any) => any) =>
  runInDurableObject(stub, (_instance, state) => {
    for (const ws of state.getWebSockets()) ws.serializeAttachment(change(ws.deserializeAttachment()));
  });

let app: TestApp;

beforeAll(async () => {
  app = await createApp("realtime limits");
});

describe("bounded batches", () => {
  it("refuses an HTTP batch of 21 messages whole, each with a 400", async () => {
    const batch = Array.from({ length: 21 }, (_, i) => ({ ...handshakeMessage, id: String(i) }));
    const answer = await poll(batch);
    expect(answer.status).toBe(200);
    expect(answer.json).toHaveLength(21);
    for (const reply of answer.json) expect(reply).toMatchObject({ successful: false, error: expect.stringMatching(/^400:/) });
    // 20 are fine.
    expect((await poll(batch.slice(0, 20))).json.every((reply: Frame) => reply.successful)).toBe(true);
  });

  it("closes a socket that sends a frame of 21 messages, unanswered", async () => {
    const { socket, clientId } = await connectedSocket();
    socket.send(Array.from({ length: 21 }, (_, i) => ({ ...connectNow(clientId), id: `b${i}` })));
    expect((await socket.waitClosed()).code).toBe(1009);
    expect(socket.received.filter((frame) => frame.id?.startsWith("b"))).toEqual([]);
  });

  it("holds at most one connect of a batch: the others are refused at once", async () => {
    const clientId = await handshake();
    const connect = { channel: "/meta/connect", clientId, connectionType: "long-polling" };
    const started = Date.now();
    const pending = poll([{ ...connect, id: "1" }, { ...connect, id: "2" }, { ...connect, id: "3" }]);
    await pause(300);
    // An event answers the held connect; without the limit, each connect was held in turn.
    await poll([{ channel: "/meta/disconnect", clientId, id: "d" }]);
    const answer = await pending;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(answer.json.filter((r: Frame) => r.id === "2" || r.id === "3")).toEqual([
      expect.objectContaining({ successful: false, error: expect.stringMatching(/^400:/) }),
      expect.objectContaining({ successful: false, error: expect.stringMatching(/^400:/) }),
    ]);
  });
});

describe("client ids", () => {
  it.each([
    ["an id in the old format, issued 'now'", () => `${Date.now().toString(36)}${"ab".repeat(12)}`],
    ["a random id", () => crypto.randomUUID().replace(/-/g, "")],
  ])("never opens a session for %s that no handshake issued", async (_, forge) => {
    const forged = forge();
    const answer = await poll([{ channel: "/meta/connect", clientId: forged, connectionType: "long-polling", advice: { timeout: 0 }, id: "c" }]);
    expect(answer.json[0]).toMatchObject({ successful: false, error: expect.stringMatching(/^401:/), advice: { reconnect: "handshake" } });
    const socket = await Socket.open();
    expect(await socket.request(connectNow(forged))).toMatchObject({ successful: false, advice: { reconnect: "handshake" } });
    socket.close();
  });
});

describe("subscription refusals", () => {
  it("answer alike whether the user does not exist, is another's, or requires a JWT", async () => {
    const alice = await newUser(app, "alice@limits.test");
    await call("POST", "/v1/appusers", app.server, { body: { userId: "carol@limits.test", credentialRequired: true } });
    const carol = await newUser(app, "carol@limits.test");
    const bobJwt = await sign({ scope: "appUser", userId: "bob@limits.test" }, app.keyId, app.secret);
    const { socket, clientId } = await connectedSocket();
    const channel = alice.channel;
    const errors = [];
    for (const ext of [
      { appUserId: "no-such-user", appToken: app.appToken },
      { appUserId: "no-such-user", jwt: bobJwt },
      { appUserId: alice._id, jwt: bobJwt },
      { appUserId: carol._id, appToken: app.appToken },
    ]) {
      errors.push((await subscribe(socket, clientId, channel, ext)).error);
    }
    expect(errors[0]).toMatch(/^403:/);
    expect(new Set(errors).size).toBe(1);
    socket.close();
  });
});

describe("revocation reaches subscriptions", () => {
  /** A socket subscribed to the user's channel with these credentials, its connect held. */
  async function subscribed(user: User, ext: Record<string, unknown>) {
    const { socket, clientId } = await connectedSocket();
    expect(await subscribe(socket, clientId, user.channel, { appUserId: user._id, ...ext })).toMatchObject({ successful: true });
    return { socket, clientId };
  }

  async function expectToldToHandshake(socket: Socket, clientId: string, owner: TestApp, user: User) {
    const answer = await socket.request(connectNow(clientId));
    expect(answer).toMatchObject({ successful: false, advice: { reconnect: "handshake" } });
    await reply(owner, user, "after the revocation");
    await pause(200);
    expect(socket.events(user.channel).map((event) => event.data.text)).not.toContain("after the revocation");
    socket.close();
  }

  it("an expired JWT: the next connect is told to handshake, and nothing more is delivered", async () => {
    const user = await newUser(app, "expiring@limits.test");
    const jwt = await sign({ scope: "appUser", userId: "expiring@limits.test" }, app.keyId, app.secret, { exp: Math.floor(Date.now() / 1000) + 2 });
    const { socket, clientId } = await subscribed(user, { jwt });
    await reply(app, user, "before");
    await socket.next((frame) => frame.data?.text === "before");
    await pause(2_100);
    await expectToldToHandshake(socket, clientId, app, user);
  });

  it("a deleted key", async () => {
    const owner = await createApp("deleted key");
    const user = await newUser(owner, "keyed@limits.test");
    const { socket, clientId } = await subscribed(user, { jwt: await sign({ scope: "app" }, owner.keyId, owner.secret) });
    expect((await call("DELETE", `/v1/apps/${owner.appId}/keys/${owner.keyId}`, await account())).status).toBe(200);
    await expectToldToHandshake(socket, clientId, owner, user);
  });

  it("a rotated app token", async () => {
    const owner = await createApp("rotated token");
    const user = await newUser(owner);
    const { socket, clientId } = await subscribed(user, { appToken: owner.appToken });
    expect((await call("POST", `/v1/apps/${owner.appId}/appToken`, await account())).status).toBe(200);
    await expectToldToHandshake(socket, clientId, owner, user);
  });

  it("is checked again before a delivery once 30 s old, and the held connect tells the client", async () => {
    const owner = await createApp("rotated, quiet client");
    const user = await newUser(owner);
    const { socket } = await subscribed(user, { appToken: owner.appToken });
    const held = { channel: "/meta/connect", clientId: socket.received[0]?.clientId, connectionType: "websocket", id: "held" };
    socket.send([held]);
    await pause(100);
    expect((await call("POST", `/v1/apps/${owner.appId}/appToken`, await account())).status).toBe(200);
    await ageSockets(await socketObject(user.conversationId), (state) => ({ ...state, grants: { ...state.grants, checkedAt: Date.now() - 31_000 } }));
    await reply(owner, user, "after the rotation");
    expect(await socket.next((frame) => frame.id === "held")).toMatchObject({ successful: false, advice: { reconnect: "handshake" } });
    expect(socket.events(user.channel)).toEqual([]);
    socket.close();
  });

  it("a long-polling client's next connect is told too", async () => {
    const owner = await createApp("rotated, long-polling");
    const user = await newUser(owner);
    const clientId = await handshake();
    const subscribeAnswer = await poll([{ channel: "/meta/subscribe", clientId, subscription: user.channel, ext: { appUserId: user._id, appToken: owner.appToken }, id: "s" }]);
    expect(subscribeAnswer.json[0]).toMatchObject({ successful: true });
    expect((await call("POST", `/v1/apps/${owner.appId}/appToken`, await account())).status).toBe(200);
    const answer = await poll([{ channel: "/meta/connect", clientId, connectionType: "long-polling", advice: { timeout: 0 }, id: "c" }]);
    expect(answer.json).toEqual([expect.objectContaining({ successful: false, advice: expect.objectContaining({ reconnect: "handshake" }) })]);
  });
});

describe("socket lifetimes", () => {
  async function subscribedSocket() {
    const user = await newUser(app);
    const { socket, clientId } = await connectedSocket();
    await subscribe(socket, clientId, user.channel, { appUserId: user._id, appToken: app.appToken });
    return { socket, stub: await socketObject(user.conversationId) };
  }

  it("closes a socket that has sent no connect for twice the connect timeout (its pings do not count)", async () => {
    const { socket, stub } = await subscribedSocket();
    await ageSockets(stub, (state) => ({ ...state, lastConnect: Date.now() - 61_000, held: undefined }));
    await runDurableObjectAlarm(stub);
    expect(await socket.waitClosed()).toMatchObject({ code: 1001 });
  });

  it("closes a socket at the end of its lifetime, 24 h by default", async () => {
    const { socket, stub } = await subscribedSocket();
    await ageSockets(stub, (state) => ({ ...state, openedAt: Date.now() - 24 * 3600_000 - 1 }));
    await runDurableObjectAlarm(stub);
    expect(await socket.waitClosed()).toMatchObject({ code: 1001 });
  });

  it("keeps a socket that connects", async () => {
    const { socket, stub } = await subscribedSocket();
    await runDurableObjectAlarm(stub);
    await pause(100);
    expect(socket.closed).toBeNull();
    socket.close();
  });
});

describe("subscribers per conversation", () => {
  it("takes at most 100 clients, refusing the next with a 403", async () => {
    const user = await newUser(app);
    const stub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(user.conversationId));
    const others = Array.from({ length: 100 }, () => env.REALTIME.newUniqueId().toString());
    await runInDurableObject(stub, async (instance) => {
      for (const client of others) expect(await instance.subscribe(client, user.channel, "messages")).toBe(true);
    });
    const { socket, clientId } = await connectedSocket();
    expect(await subscribe(socket, clientId, user.channel, { appUserId: user._id, appToken: app.appToken })).toMatchObject({
      successful: false,
      error: expect.stringMatching(/^403:/),
    });
    // One leaving makes room.
    await runInDurableObject(stub, (instance) => instance.unsubscribe(others[0]));
    expect(await subscribe(socket, clientId, user.channel, { appUserId: user._id, appToken: app.appToken })).toMatchObject({ successful: true });
    socket.close();
  });
});
