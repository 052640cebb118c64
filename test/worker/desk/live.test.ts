// The Desk's live channel (issue 26): GET /desk/api/apps/:appId/live, a WebSocket per open Desk,
// refused like the rest of the Desk API (and from another origin), that hears of every change to
// the app's conversations once the index has it, and closes when the Access token expires.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import worker from "../../../src/index";
import { MAX_SOCKETS_PER_AGENT, MAX_SOCKETS_PER_APP } from "../../../src/desk-live/room";
import { accessEnv, DESK, fakeAccessTeam, type TokenOptions } from "../support/access-team";
import { account, call, createApp, expectError, freshUser, type TestApp } from "../support/helpers";

let team: Awaited<ReturnType<typeof fakeAccessTeam>>;
let app: TestApp;
let agentId: string;

beforeAll(async () => {
  team = await fakeAccessTeam();
  app = await createApp("desk live");
  const auth = await account();
  await call("POST", `/v1/apps/${app.appId}/agents`, auth, { body: { email: "ana@example.com", name: "Ana" } });
  agentId = (await call("POST", `/v1/apps/${app.appId}/agents`, auth, { body: { email: "bo@example.com", name: "Bo" } })).json.agent._id;
});

afterAll(() => vi.restoreAllMocks());

type Frame = Record<string, any>;

/** An open Desk's socket, keeping every frame it receives. */
class LiveSocket {
  readonly frames: Frame[] = [];
  closed: { code: number; reason: string } | null = null;

  constructor(readonly ws: WebSocket) {
    ws.accept();
    ws.addEventListener("message", (event) => {
      this.frames.push(JSON.parse(event.data as string));
    });
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
    });
  }

  next(match: (frame: Frame) => boolean, timeout = 10_000): Promise<Frame> {
    return vi.waitUntil(() => this.frames.find(match), { timeout, interval: 10 });
  }

  waitClosed(timeout = 10_000) {
    return vi.waitUntil(() => this.closed, { timeout, interval: 10 });
  }
}

async function openLive(headers: Record<string, string>, { environment = accessEnv as Env, origin = DESK, upgrade = true, appId = app.appId } = {}) {
  const ctx = createExecutionContext();
  const request = new Request(`${origin}/desk/api/apps/${appId}/live`, { headers: { ...headers, ...(upgrade && { upgrade: "websocket" }) } });
  const response = await worker.fetch!(request as never, environment, ctx);
  await waitOnExecutionContext(ctx);
  if (response.status === 101 && response.webSocket) return { status: 101, socket: new LiveSocket(response.webSocket) };
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined, headers: response.headers };
}

const signedIn = async (options?: TokenOptions) => ({ cookie: `CF_Authorization=${await team.accessToken(options)}`, origin: DESK });

async function openedSocket(options?: TokenOptions): Promise<LiveSocket> {
  const opened = await openLive(await signedIn(options));
  expect(opened.status, JSON.stringify(opened)).toBe(101);
  return opened.socket!;
}

const about = (appUserId: string) => (frame: Frame) => frame.type === "conversation" && frame.conversation.appUser._id === appUserId;

describe("the Desk's live channel", () => {
  it.each<[string, TokenOptions | null]>([
    ["no token", null],
    ["a forged token", { key: "stranger" as never }],
    ["an expired token", { exp: Math.floor(Date.now() / 1000) - 60 }],
    ["a token for another application (wrong audience)", { aud: "another-app" }],
  ])("refuses %s with 401", async (_name, options) => {
    const headers = options === null ? { origin: DESK } : await signedIn(options.key ? { ...options, key: team.strangerKey } : options);
    expectError((await openLive(headers)) as never, 401);
  });

  it("refuses an address that is no agent of the app (403), another origin (403) and a plain GET (426)", async () => {
    expectError((await openLive(await signedIn({ email: "eve@example.com" }))) as never, 403, "appId");
    const cookie = { cookie: (await signedIn()).cookie };
    expectError((await openLive({ ...cookie, origin: "https://evil.example" })) as never, 403, "origin");
    expectError((await openLive(cookie)) as never, 403, "origin");
    const plain = await openLive(await signedIn(), { upgrade: false });
    expect(plain.status).toBe(426);
  });

  it("is 404 without Access off loopback, and opens as the local agent on loopback", async () => {
    expectError((await openLive({ origin: DESK }, { environment: env })) as never, 404);
    const local = await openLive({ origin: "http://127.0.0.1:8787" }, { environment: env, origin: "http://127.0.0.1:8787" });
    expect(local.status).toBe(101);
    local.socket!.ws.close(1000);
  });

  it("sends a conversation's entry for each message of either role, the business's read and a status change", async () => {
    const socket = await openedSocket();
    const user = await freshUser(app, { givenName: "Vic" });
    const { json: asked } = await call("POST", `/v1/appusers/${user.id}/messages`, app.token, { body: { role: "appUser", text: "Hello?" } });
    const first = await socket.next((f) => about(user.id)(f) && f.conversation.lastMessage._id === asked.message._id);
    expect(first.conversation).toMatchObject({ appUser: { _id: user.id, givenName: "Vic" }, businessUnreadCount: 1, status: "open", assignee: null });
    // Exactly what the list shows.
    const listed = (await call("GET", "/v1/conversations", app.server)).json.conversations.find((e: any) => e.appUser._id === user.id);
    expect(first.conversation).toEqual(listed);

    const { json: answer } = await call("POST", `/v1/appusers/${user.id}/messages`, app.server, { body: { role: "appMaker", text: "Yes." } });
    await socket.next((f) => about(user.id)(f) && f.conversation.lastMessage._id === answer.message._id);
    await call("POST", `/v1/appusers/${user.id}/conversation/read`, app.server, { body: { role: "appMaker" } });
    await socket.next((f) => about(user.id)(f) && f.conversation.businessUnreadCount === 0);
    await call("PUT", `/v1/appusers/${user.id}/conversation`, app.server, { body: { status: "closed", assignee: "ana@example.com" } });
    const closed = await socket.next((f) => about(user.id)(f) && f.conversation.status === "closed");
    expect(closed.conversation.assignee).toEqual({ email: "ana@example.com", name: "Ana" });
    socket.ws.close(1000);
  });

  it("tells every open Desk of the app when a user is erased, or their conversation loses its last message", async () => {
    const [one, two] = [await openedSocket(), await openedSocket()];
    const [erased, emptied] = [await freshUser(app), await freshUser(app)];
    for (const user of [erased, emptied]) {
      await call("POST", `/v1/appusers/${user.id}/messages`, app.token, { body: { role: "appUser", text: "soon gone" } });
      await one.next(about(user.id));
    }
    expect((await call("DELETE", `/v1/appusers/${erased.id}`, app.server)).status).toBe(200);
    expect((await call("DELETE", `/v1/appusers/${emptied.id}/messages`, app.server)).status).toBe(200);
    for (const socket of [one, two]) {
      await socket.next((f) => f.type === "removed" && f.appUserId === erased.id);
      await socket.next((f) => f.type === "removed" && f.appUserId === emptied.id);
      socket.ws.close(1000);
    }
  });

  it("names a message erased on its own, so that an open Desk drops it even when it was not the newest", async () => {
    const socket = await openedSocket();
    const user = await freshUser(app);
    const post = (text: string) => call("POST", `/v1/appusers/${user.id}/messages`, app.token, { body: { role: "appUser", text } });
    const { json: older } = await post("older");
    const { json: middle } = await post("middle");
    const { json: newest } = await post("newest");
    await socket.next((f) => about(user.id)(f) && f.conversation.lastMessage._id === newest.message._id);
    const erase = (id: string) => call("DELETE", `/v1/appusers/${user.id}/messages/${id}`, app.server);
    expect((await erase(older.message._id)).status).toBe(200);
    expect(await socket.next((f) => f.type === "erased" && f.messageId === older.message._id)).toEqual({ type: "erased", appUserId: user.id, messageId: older.message._id });
    // The newest erased: the frame, and the entry whose last message is the one before it.
    expect((await erase(newest.message._id)).status).toBe(200);
    await socket.next((f) => f.type === "erased" && f.messageId === newest.message._id);
    await socket.next((f) => about(user.id)(f) && f.conversation.lastMessage._id === middle.message._id);
    socket.ws.close(1000);
  });

  it("sends the entry again when the user's profile is updated or erased (the names the list shows)", async () => {
    const socket = await openedSocket();
    const user = await freshUser(app, { givenName: "Pat", email: "pat@example.com" });
    await call("POST", `/v1/appusers/${user.id}/messages`, app.token, { body: { role: "appUser", text: "Hi" } });
    await socket.next((f) => about(user.id)(f) && f.conversation.lastMessage !== null);

    const updated = await call("PUT", `/v1/appusers/${user.id}`, app.server, { body: { givenName: "Patricia", surname: "Lee" } });
    expect(updated.status).toBe(200);
    const renamed = await socket.next((f) => about(user.id)(f) && f.conversation.appUser.givenName === "Patricia");
    expect(renamed.conversation.appUser).toMatchObject({ givenName: "Patricia", surname: "Lee", email: "pat@example.com" });

    expect((await call("DELETE", `/v1/appusers/${user.id}/profile`, app.server)).status).toBe(200);
    const erased = await socket.next((f) => about(user.id)(f) && f.conversation.appUser.givenName === undefined);
    expect(erased.conversation.appUser).toEqual({ _id: user.id, userId: user.userId, properties: {} });
    expect(erased.conversation.lastMessage).not.toHaveProperty("name");
    socket.ws.close(1000);
  });

  it("shows the app user typing, and stopping", async () => {
    const socket = await openedSocket();
    const user = await freshUser(app);
    const jwt = await app.user(user.userId);
    for (const type of ["typing:start", "typing:stop"]) {
      expect((await call("POST", `/v1/appusers/${user.id}/conversation/activity`, jwt, { body: { role: "appUser", type } })).status).toBe(200);
    }
    await socket.next((f) => f.type === "typing" && f.appUserId === user.id && f.active === false);
    expect(socket.frames.filter((f) => f.type === "typing")).toEqual([
      { type: "typing", appUserId: user.id, active: true },
      { type: "typing", appUserId: user.id, active: false },
    ]);
    socket.ws.close(1000);
  });

  it(`holds at most ${MAX_SOCKETS_PER_AGENT} open Desks per agent and ${MAX_SOCKETS_PER_APP} per app (429 beyond, with Retry-After); a closed one frees its place`, async () => {
    const crowded = await createApp("desk live crowd");
    const agents = Array.from({ length: MAX_SOCKETS_PER_APP / MAX_SOCKETS_PER_AGENT }, (_, i) => `agent${i}@example.com`);
    const auth = await account();
    for (const email of agents) await call("POST", `/v1/apps/${crowded.appId}/agents`, auth, { body: { email } });
    const open = async (email: string) => openLive(await signedIn({ email }), { appId: crowded.appId });
    const sockets: LiveSocket[] = [];
    for (let i = 0; i < MAX_SOCKETS_PER_AGENT; i++) sockets.push((await open(agents[0])).socket!);
    const refused = await open(agents[0]);
    expectError(refused as never, 429, "live");
    expect(refused.headers?.get("retry-after")).toBe("30");
    sockets.pop()!.ws.close(1000);
    sockets.push((await vi.waitUntil(async () => (await open(agents[0])).socket, { timeout: 5_000, interval: 50 }))!);

    for (const email of agents.slice(1)) for (let i = 0; i < MAX_SOCKETS_PER_AGENT; i++) sockets.push((await open(email)).socket!);
    expect(sockets.every(Boolean)).toBe(true);
    expect((await call("POST", `/v1/apps/${crowded.appId}/agents`, auth, { body: { email: "late@example.com" } })).status).toBe(201);
    expectError((await open("late@example.com")) as never, 429, "live");
    // Another app's room is its own.
    const elsewhere = await openLive(await signedIn());
    expect(elsewhere.status).toBe(101);
    elsewhere.socket!.ws.close(1000);
    for (const socket of sockets) socket.ws.close(1000);
  });

  it("closes the socket (4001) when the Access token that opened it expires", async () => {
    const socket = await openedSocket({ exp: Math.floor(Date.now() / 1000) + 2 });
    expect(await socket.waitClosed()).toEqual({ code: 4001, reason: "access expired" });
  });

  it("closes the sockets of an agent removed from the app (4003), not the others'", async () => {
    const bo = await openedSocket({ email: "bo@example.com" });
    const ana = await openedSocket();
    expect((await call("DELETE", `/v1/apps/${app.appId}/agents/${agentId}`, await account())).status).toBe(200);
    expect(await bo.waitClosed()).toEqual({ code: 4003, reason: "no longer an agent of this app" });
    expect(ana.closed).toBeNull();
    ana.ws.close(1000);
  });
});
