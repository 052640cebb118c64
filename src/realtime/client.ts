import { DurableObject } from "cloudflare:workers";
import { enforceRealtimeBudget } from "../auth/rate-limit";
import { config } from "../config";
import type { RealtimeEvent, Subscriber } from "../conversation/subscription";
import { callerAddress } from "../lib/ip-address";
import { CONNECT_ADVICE, CONNECT_TIMEOUT_MS, MAX_BATCH, type BayeuxMessage, type Reply } from "./protocol";
import { addSubscriptions, dropSubscriptions, endedConnect, process, recheckGrants, type Grants, type Host } from "./session";

/** Larger frames are no Bayeux a widget sends: the socket is closed. */
const MAX_FRAME_BYTES = 64 * 1024;
/** A socket may send this many frames per window before it is closed as a flood. */
const FLOOD_FRAMES = 120;
const FLOOD_WINDOW_MS = 10_000;
/** Events a long-polling client has not collected; older ones are dropped (it refetches). */
const MAX_QUEUED_EVENTS = 500;
/** A long-polling session not heard from for this long after its last connect has gone. */
const SESSION_GRACE_MS = 30_000;
/** How long the record of a socket's claim, or of an ended client, is kept: a client id is never taken twice. */
const RECORD_TTL_MS = 24 * 3600_000;
/** A socket that sends no connect for this long has gone quiet (its pings are answered without us): it is closed. */
const IDLE_MS = 2 * CONNECT_TIMEOUT_MS;
const NO_GRANTS: Grants = { list: [], checkedAt: 0 };

interface SocketState {
  openedAt: number;
  /** The client's address at the upgrade: the key of its budgets. */
  caller: string;
  /** The last connect (or the upgrade): the socket is closed once this is IDLE_MS old. */
  lastConnect: number;
  clientId: string | null;
  subscriptions: Record<string, string>;
  grants: Grants;
  /** The connect being held, answered when it falls due (the alarm) or a newer one arrives. */
  held?: { reply: Reply; due: number };
}

/** What a socket takes over with a client id. */
interface Taken {
  subscriptions: Record<string, string>;
  grants: Grants;
  queue: RealtimeEvent[];
}

/** What the object named after a client id remembers about it; an ended id is never taken again. */
type ClientRecord =
  | { kind: "claimed"; socket: string }
  | { kind: "session"; clientId: string; subscriptions: Record<string, string>; grants: Grants; queue: RealtimeEvent[] }
  | { kind: "ended" };

function withSubscription(subscriptions: Record<string, string>, channel: string, conversationId: string | null) {
  const { [channel]: _previous, ...others } = subscriptions;
  return conversationId === null ? others : { ...others, [channel]: conversationId };
}

/** faye sets `advice.timeout: 0` on a connect batched with other messages: answer it at once. */
const asksNoWait = (message: BayeuxMessage) => (message.advice as { timeout?: unknown } | undefined)?.timeout === 0;

/**
 * A realtime client's object, in one of two roles:
 * - a WebSocket's holder: the worker hands each upgrade to a new object, which accepts the socket
 *   with the Hibernation API (its state rides in the socket's attachment), so an idle socket
 *   costs nothing; the runtime wakes the object for a frame, a delivery or its alarm (a held
 *   connect falling due, a socket gone quiet or at the end of its lifetime);
 * - the object named after a client id, created by its handshake (no other id is accepted): the
 *   session of a long-polling client (subscriptions and undelivered events in storage), and the
 *   record of which socket took a WebSocket client id, so that a second socket presenting the
 *   same id (a reconnect) is told to handshake again.
 * Conversations deliver to either through `deliver`.
 */
export class RealtimeClient extends DurableObject<Env> implements Subscriber {
  private readonly frames = new WeakMap<WebSocket, { since: number; count: number }>();
  /** The held long-poll connect, woken by a delivery, a newer connect or its timeout. */
  private waiting: (() => void) | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // faye pings an open socket with an empty batch; answered without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("[]", "[]"));
  }

  private get address(): string {
    return this.ctx.id.toString();
  }

  // ---- the WebSocket role ----------------------------------------------------------------

  async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    const now = Date.now();
    const state: SocketState = { openedAt: now, caller: callerAddress(request), lastConnect: now, clientId: null, subscriptions: {}, grants: NO_GRANTS };
    server.serializeAttachment(state);
    await this.scheduleSockets();
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Each socket's frames are handled one after another, as they arrived. */
  private readonly inOrder = new WeakMap<WebSocket, Promise<void>>();

  async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const handled = (this.inOrder.get(ws) ?? Promise.resolve()).then(() => this.handleFrame(ws, data));
    this.inOrder.set(ws, handled.catch(() => {}));
    return handled;
  }

  private async handleFrame(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const size = typeof data === "string" ? data.length : data.byteLength;
    if (size > MAX_FRAME_BYTES) return this.closeSocket(ws, 1009, "frame too large");
    if (this.flooding(ws)) return this.closeSocket(ws, 1008, "too many messages");
    let messages: unknown;
    try {
      messages = JSON.parse(typeof data === "string" ? data : new TextDecoder().decode(data));
    } catch {
      return this.closeSocket(ws, 1007, "frames are JSON");
    }
    const batch = Array.isArray(messages) ? messages : [messages];
    if (batch.length > MAX_BATCH) return this.closeSocket(ws, 1009, `at most ${MAX_BATCH} messages per frame`);
    const replies = await process(this.env, this.socketHost(ws), batch);
    if (replies.length > 0) ws.send(JSON.stringify(replies));
  }

  async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    // Completes the closing handshake, which the client waits for before it reconnects.
    await this.closeSocket(ws, code === 1005 || code === 1006 ? 1000 : code, "closed");
  }

  async webSocketError(ws: WebSocket): Promise<void> {
    await this.forgetSocket(ws);
  }

  private flooding(ws: WebSocket): boolean {
    const now = Date.now();
    const window = this.frames.get(ws);
    if (!window || now - window.since > FLOOD_WINDOW_MS) {
      this.frames.set(ws, { since: now, count: 1 });
      return false;
    }
    window.count++;
    return window.count > FLOOD_FRAMES;
  }

  private async closeSocket(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code, reason);
    } catch {
      // Already closing.
    }
    await this.forgetSocket(ws);
  }

  private async forgetSocket(ws: WebSocket): Promise<void> {
    const state = ws.deserializeAttachment() as SocketState | null;
    if (state) await dropSubscriptions(this.env, this.address, state.subscriptions);
    ws.serializeAttachment(null);
  }

  private socketHost(ws: WebSocket): Host {
    const state = () => ws.deserializeAttachment() as SocketState;
    const save = (changes: Partial<SocketState>) => ws.serializeAttachment({ ...state(), ...changes });
    return {
      address: this.address,
      caller: state().caller,
      holds: async (clientId) => {
        const current = state();
        if (current.clientId === clientId) return true;
        // A new id on this socket: one just handshaken, or a long-polling client moving here.
        // Cast: the RPC typings cannot map events' `unknown` payloads, which are plain JSON.
        const taken = (await this.named(clientId).claim(this.address)) as Taken | null;
        if (!taken) return false;
        await dropSubscriptions(this.env, this.address, current.subscriptions);
        await addSubscriptions(this.env, this.address, taken.subscriptions);
        save({ clientId, subscriptions: taken.subscriptions, grants: taken.grants });
        if (taken.queue.length > 0) ws.send(JSON.stringify(taken.queue));
        return true;
      },
      begin: async (clientId) => {
        await enforceRealtimeBudget(this.env, "handshake", state().caller);
        await dropSubscriptions(this.env, this.address, state().subscriptions);
        await this.named(clientId).open(clientId, this.address);
        save({ clientId, subscriptions: {}, grants: NO_GRANTS });
      },
      subscriptions: () => state().subscriptions,
      setSubscription: async (channel, conversationId) => save({ subscriptions: withSubscription(state().subscriptions, channel, conversationId) }),
      grants: () => state().grants,
      setGrants: async (grants) => save({ grants }),
      // Events are pushed as they come; the connect is held, so that a dropped socket fails it.
      connect: async (message, reply) => {
        const answer = { ...reply, advice: CONNECT_ADVICE };
        const previous = state().held;
        const now = Date.now();
        if (asksNoWait(message)) {
          save({ lastConnect: now, held: undefined });
          await this.scheduleSockets();
          return previous ? [previous.reply, answer] : [answer];
        }
        save({ lastConnect: now, held: { reply: answer, due: now + CONNECT_TIMEOUT_MS } });
        await this.scheduleSockets();
        return previous ? [previous.reply] : [];
      },
      end: async () => {
        const { clientId } = state();
        save({ clientId: null, subscriptions: {}, grants: NO_GRANTS });
        if (clientId) await this.named(clientId).retire();
      },
    };
  }

  private named(clientId: string) {
    return this.env.REALTIME.get(this.env.REALTIME.idFromName(clientId));
  }

  // ---- the object named after a client id ------------------------------------------------

  /** The record, read from storage once: afterwards memory and storage change together. */
  private record: ClientRecord | null | undefined;

  private async load(): Promise<ClientRecord | null> {
    if (this.record === undefined) this.record = (await this.ctx.storage.get<ClientRecord>("record")) ?? null;
    return this.record;
  }

  private async store(record: ClientRecord): Promise<void> {
    this.record = record;
    await this.ctx.storage.put("record", record);
  }

  private async session(): Promise<Extract<ClientRecord, { kind: "session" }> | null> {
    const record = await this.load();
    return record?.kind === "session" ? record : null;
  }

  /**
   * A socket takes the client id: one just handshaken (the first socket to ask), or the session
   * of a long-polling client that has moved to a WebSocket, whose subscriptions and undelivered
   * events go with it. Null for anything else: a second socket presenting the id (a reconnect)
   * must handshake again.
   */
  async claim(socket: string): Promise<Taken | null> {
    const record = await this.load();
    if (record?.kind === "claimed") return record.socket === socket ? { subscriptions: {}, grants: NO_GRANTS, queue: [] } : null;
    if (record?.kind !== "session") return null;
    this.wake();
    await this.take(socket);
    return { subscriptions: record.subscriptions, grants: record.grants, queue: record.queue };
  }

  /** A handshake made this id: a socket's (which takes it), or an HTTP one's (a long-polling session, until a socket takes it). */
  async open(clientId: string, socket: string | null): Promise<void> {
    if (await this.load()) return;
    if (socket) return this.take(socket);
    await this.store({ kind: "session", clientId, subscriptions: {}, grants: NO_GRANTS, queue: [] });
    await this.keepAlive();
  }

  private async take(socket: string): Promise<void> {
    await this.store({ kind: "claimed", socket });
    await this.ctx.storage.setAlarm(Date.now() + RECORD_TTL_MS);
  }

  /** One HTTP request's messages (long-polling and callback-polling) for this object's client. */
  async poll(messages: unknown[], caller: string): Promise<Reply[]> {
    return process(this.env, this.sessionHost(caller), messages);
  }

  private sessionHost(caller: string): Host {
    return {
      address: this.address,
      caller,
      holds: async (clientId) => (await this.session())?.clientId === clientId,
      // HTTP handshakes are answered by the worker: nothing to take here.
      begin: async () => {},
      subscriptions: () => (this.record?.kind === "session" ? this.record.subscriptions : {}),
      setSubscription: async (channel, conversationId) => {
        const session = await this.session();
        if (session) await this.store({ ...session, subscriptions: withSubscription(session.subscriptions, channel, conversationId) });
      },
      grants: () => (this.record?.kind === "session" ? this.record.grants : NO_GRANTS),
      setGrants: async (grants) => {
        const session = await this.session();
        if (session) await this.store({ ...session, grants });
      },
      connect: async (message, reply) => {
        await this.keepAlive();
        const events = await this.collect(asksNoWait(message) ? 0 : CONNECT_TIMEOUT_MS);
        // Ended while held (a revoked grant, a deleted user): told to handshake again.
        if ((await this.load())?.kind === "ended") return [endedConnect(message)];
        return [{ ...reply, advice: CONNECT_ADVICE }, ...events];
      },
      end: () => this.retire(),
    };
  }

  /** The queued events, waiting up to `waitMs` for some to arrive. */
  private async collect(waitMs: number): Promise<RealtimeEvent[]> {
    if ((await this.session())?.queue.length === 0 && waitMs > 0) {
      // A newer connect replaces an older one, which is answered empty.
      this.wake();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => this.wake(), waitMs);
        this.waiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const session = await this.session();
    if (!session || session.queue.length === 0) return [];
    await this.store({ ...session, queue: [] });
    return session.queue;
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.();
  }

  private keepAlive(): Promise<void> {
    return this.ctx.storage.setAlarm(Date.now() + CONNECT_TIMEOUT_MS + SESSION_GRACE_MS);
  }

  /** The client id is done with (a disconnect, an expired session): it is never taken again. */
  async retire(): Promise<void> {
    this.wake();
    await this.store({ kind: "ended" });
    await this.ctx.storage.setAlarm(Date.now() + RECORD_TTL_MS);
  }

  /**
   * A socket's held connects fall due; a long-polling session nobody polls has ended; an old
   * record has served its purpose.
   */
  async alarm(): Promise<void> {
    if (this.ctx.getWebSockets().length > 0) return this.tendSockets();
    const record = await this.load();
    if (record?.kind === "session") {
      if (this.waiting) return this.keepAlive();
      await dropSubscriptions(this.env, this.address, record.subscriptions);
      return this.retire();
    }
    this.record = null;
    await this.ctx.storage.deleteAll();
  }

  private socketStates(): Array<[WebSocket, SocketState]> {
    return this.ctx
      .getWebSockets()
      .map((ws) => [ws, ws.deserializeAttachment() as SocketState | null] as const)
      .filter((entry): entry is [WebSocket, SocketState] => entry[1] !== null);
  }

  /** When each socket next needs the object: its held connect's due time, the end of its quiet allowance or of its lifetime. */
  private deadlines(state: SocketState): number[] {
    const lifetime = config(this.env).realtimeSocketMaxSeconds * 1000;
    return [state.lastConnect + IDLE_MS, state.openedAt + lifetime, ...(state.held ? [state.held.due] : [])];
  }

  private async scheduleSockets(): Promise<void> {
    const next = Math.min(...this.socketStates().flatMap(([, state]) => this.deadlines(state)));
    if (Number.isFinite(next)) await this.ctx.storage.setAlarm(next);
  }

  /**
   * Sockets past their lifetime, or quiet for IDLE_MS (hibernated sockets' pings are answered by
   * the runtime, so a client that only pings looks alive to it), are closed; the clients
   * reconnect. Held connects that fall due are answered.
   */
  private async tendSockets(): Promise<void> {
    const soon = Date.now() + 100;
    const lifetime = config(this.env).realtimeSocketMaxSeconds * 1000;
    for (const [ws, state] of this.socketStates()) {
      if (state.openedAt + lifetime <= soon) await this.closeSocket(ws, 1001, "socket lifetime reached, reconnect");
      else if (state.lastConnect + IDLE_MS <= soon) await this.closeSocket(ws, 1001, "no /meta/connect, reconnect");
      else if (state.held && state.held.due <= soon) {
        ws.send(JSON.stringify([state.held.reply]));
        ws.serializeAttachment({ ...state, held: undefined });
      }
    }
    await this.scheduleSockets();
  }

  // ---- both roles ----------------------------------------------------------------------------

  /**
   * The user these channels belong to was deleted: the client drops them, and a client left
   * with no subscription is ended (its socket closed, its id retired), so it must handshake
   * again, and is refused when it subscribes to the deleted user.
   */
  async revoke(channels: string[]): Promise<void> {
    const keep = (subscriptions: Record<string, string>) =>
      Object.fromEntries(Object.entries(subscriptions).filter(([channel]) => !channels.includes(channel)));
    for (const ws of this.ctx.getWebSockets()) {
      const state = ws.deserializeAttachment() as SocketState | null;
      if (!state) continue;
      const subscriptions = keep(state.subscriptions);
      ws.serializeAttachment({ ...state, subscriptions });
      if (Object.keys(subscriptions).length > 0) continue;
      if (state.clientId) await this.named(state.clientId).retire();
      await this.closeSocket(ws, 1008, "app user deleted");
    }
    const session = await this.session();
    if (!session) return;
    const subscriptions = keep(session.subscriptions);
    if (Object.keys(subscriptions).length > 0) await this.store({ ...session, subscriptions });
    else await this.retire();
  }

  /** A conversation's events for this client; false when it has gone (the conversation forgets it). */
  async deliver(events: RealtimeEvent[]): Promise<boolean> {
    const sockets = this.socketStates().filter(([, state]) => state.clientId);
    if (sockets.length > 0) {
      let delivered = false;
      for (const [ws, { held }] of sockets) {
        if (await recheckGrants(this.env, this.socketHost(ws), false)) {
          ws.send(JSON.stringify(events));
          delivered = true;
        } else if (held) {
          // Revoked: the held connect tells the client to handshake again.
          ws.send(JSON.stringify([endedConnect({ ...held.reply })]));
          ws.serializeAttachment({ ...(ws.deserializeAttachment() as SocketState), held: undefined });
        }
      }
      return delivered;
    }
    // The caller's address is for subscribing, which a delivery never does.
    if (!(await this.session()) || !(await recheckGrants(this.env, this.sessionHost(""), false))) return false;
    const session = (await this.session())!;
    await this.store({ ...session, queue: [...session.queue, ...events].slice(-MAX_QUEUED_EVENTS) });
    this.wake();
    return true;
  }
}
