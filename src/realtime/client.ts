import { DurableObject } from "cloudflare:workers";
import type { RealtimeEvent } from "../conversation/subscribers";
import { ADOPT_WITHIN_MS, CONNECT_ADVICE, CONNECT_TIMEOUT_MS, issuedAt, type BayeuxMessage, type Reply } from "./protocol";
import { addSubscriptions, dropSubscriptions, process, type Host } from "./session";

/** Larger frames are no Bayeux a widget sends: the socket is closed. */
const MAX_FRAME_BYTES = 64 * 1024;
/** A socket may send this many frames per window before it is closed as a flood. */
const FLOOD_FRAMES = 120;
const FLOOD_WINDOW_MS = 10_000;
/** Events a long-polling client has not collected; older ones are dropped (it refetches). */
const MAX_QUEUED_EVENTS = 500;
/** A long-polling session not heard from for this long after its last connect has gone. */
const SESSION_GRACE_MS = 30_000;
/** How long the record of a socket's claim, or of an ended client, is kept: far longer than an id stays adoptable. */
const RECORD_TTL_MS = 24 * 3600_000;

interface SocketState {
  openedAt: number;
  clientId: string | null;
  subscriptions: Record<string, string>;
  /** The connect being held, answered when it falls due (the alarm) or a newer one arrives. */
  held?: { reply: Reply; due: number };
}

/** What a socket takes over with a client id. */
interface Taken {
  subscriptions: Record<string, string>;
  queue: RealtimeEvent[];
}

/** What the object named after a client id remembers about it; an ended id is never taken again. */
type ClientRecord =
  | { kind: "claimed"; socket: string }
  | { kind: "session"; clientId: string; subscriptions: Record<string, string>; queue: RealtimeEvent[] }
  | { kind: "ended" };

function withSubscription(subscriptions: Record<string, string>, channel: string, conversationId: string | null) {
  const { [channel]: _previous, ...others } = subscriptions;
  return conversationId === null ? others : { ...others, [channel]: conversationId };
}

/** faye sets `advice.timeout: 0` on a connect batched with other messages: answer it at once. */
const asksNoWait = (message: BayeuxMessage) => (message.advice as { timeout?: unknown } | undefined)?.timeout === 0;

const freshlyIssued = (clientId: string, now: number) => {
  const issued = issuedAt(clientId);
  return issued !== null && now - issued <= ADOPT_WITHIN_MS && issued <= now + ADOPT_WITHIN_MS;
};

/**
 * A realtime client's object, in one of two roles:
 * - a WebSocket's holder: the worker hands each upgrade to a new object, which accepts the socket
 *   with the Hibernation API (its state rides in the socket's attachment), so an idle socket
 *   costs nothing; the runtime wakes the object for a frame or a delivery;
 * - the object named after a client id: the session of a long-polling client (subscriptions and
 *   undelivered events in storage), and the record of which socket took a WebSocket client id,
 *   so that a second socket presenting the same id (a reconnect) is told to handshake again.
 * Conversations deliver to either through `deliver`.
 */
export class RealtimeClient extends DurableObject<Env> {
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
    server.serializeAttachment({ openedAt: Date.now(), clientId: null, subscriptions: {} } satisfies SocketState);
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
    const replies = await process(this.env, this.socketHost(ws), Array.isArray(messages) ? messages : [messages]);
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
      holds: async (clientId) => {
        const current = state();
        if (current.clientId === clientId) return true;
        // A new id on this socket: one just handshaken, or a long-polling client moving here.
        // Cast: the RPC typings cannot map events' `unknown` payloads, which are plain JSON.
        const taken = (await this.named(clientId).claim(clientId, this.address)) as Taken | null;
        if (!taken) return false;
        await dropSubscriptions(this.env, this.address, current.subscriptions);
        await addSubscriptions(this.env, this.address, taken.subscriptions);
        save({ clientId, subscriptions: taken.subscriptions });
        if (taken.queue.length > 0) ws.send(JSON.stringify(taken.queue));
        return true;
      },
      begin: async (clientId) => {
        await dropSubscriptions(this.env, this.address, state().subscriptions);
        await this.named(clientId).claim(clientId, this.address);
        save({ clientId, subscriptions: {} });
      },
      subscriptions: () => state().subscriptions,
      setSubscription: async (channel, conversationId) => save({ subscriptions: withSubscription(state().subscriptions, channel, conversationId) }),
      // Events are pushed as they come; the connect is held, so that a dropped socket fails it.
      connect: async (message, reply) => {
        const answer = { ...reply, advice: CONNECT_ADVICE };
        const previous = state().held;
        if (asksNoWait(message)) return previous ? [previous.reply, answer] : [answer];
        const due = Date.now() + CONNECT_TIMEOUT_MS;
        save({ held: { reply: answer, due } });
        const alarm = await this.ctx.storage.getAlarm();
        if (alarm === null || alarm > due) await this.ctx.storage.setAlarm(due);
        return previous ? [previous.reply] : [];
      },
      end: async () => {
        const { clientId } = state();
        save({ clientId: null, subscriptions: {} });
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
  async claim(clientId: string, socket: string): Promise<Taken | null> {
    const record = await this.load();
    if (record?.kind === "claimed") return record.socket === socket ? { subscriptions: {}, queue: [] } : null;
    if (record?.kind === "session") {
      this.wake();
      await this.take(socket);
      return { subscriptions: record.subscriptions, queue: record.queue };
    }
    if (record || !freshlyIssued(clientId, Date.now())) return null;
    await this.take(socket);
    return { subscriptions: {}, queue: [] };
  }

  private async take(socket: string): Promise<void> {
    await this.store({ kind: "claimed", socket });
    await this.ctx.storage.setAlarm(Date.now() + RECORD_TTL_MS);
  }

  /** One HTTP request's messages (long-polling and callback-polling) for this object's client. */
  async poll(messages: unknown[]): Promise<Reply[]> {
    return process(this.env, this.sessionHost(), messages);
  }

  private sessionHost(): Host {
    return {
      address: this.address,
      holds: async (clientId) => {
        const record = await this.load();
        if (record) return record.kind === "session" && record.clientId === clientId;
        if (!freshlyIssued(clientId, Date.now())) return false;
        await this.store({ kind: "session", clientId, subscriptions: {}, queue: [] });
        await this.keepAlive();
        return true;
      },
      // HTTP handshakes are answered by the worker: nothing to take here.
      begin: async () => {},
      subscriptions: () => (this.record?.kind === "session" ? this.record.subscriptions : {}),
      setSubscription: async (channel, conversationId) => {
        const session = await this.session();
        if (session) await this.store({ ...session, subscriptions: withSubscription(session.subscriptions, channel, conversationId) });
      },
      connect: async (message, reply) => {
        await this.keepAlive();
        const events = await this.collect(asksNoWait(message) ? 0 : CONNECT_TIMEOUT_MS);
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
    if (this.ctx.getWebSockets().length > 0) return this.answerHeldConnects();
    const record = await this.load();
    if (record?.kind === "session") {
      if (this.waiting) return this.keepAlive();
      await dropSubscriptions(this.env, this.address, record.subscriptions);
      return this.retire();
    }
    this.record = null;
    await this.ctx.storage.deleteAll();
  }

  private async answerHeldConnects(): Promise<void> {
    let next: number | null = null;
    for (const ws of this.ctx.getWebSockets()) {
      const state = ws.deserializeAttachment() as SocketState | null;
      if (!state?.held) continue;
      if (state.held.due <= Date.now() + 100) {
        ws.send(JSON.stringify([state.held.reply]));
        ws.serializeAttachment({ ...state, held: undefined });
      } else {
        next = Math.min(next ?? Infinity, state.held.due);
      }
    }
    if (next !== null) await this.ctx.storage.setAlarm(next);
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
    const sockets = this.ctx.getWebSockets().filter((ws) => (ws.deserializeAttachment() as SocketState | null)?.clientId);
    if (sockets.length > 0) {
      for (const ws of sockets) ws.send(JSON.stringify(events));
      return true;
    }
    const session = await this.session();
    if (!session) return false;
    await this.store({ ...session, queue: [...session.queue, ...events].slice(-MAX_QUEUED_EVENTS) });
    this.wake();
    return true;
  }
}
