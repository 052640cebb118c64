// Raw Bayeux for the realtime tests: a WebSocket to the worker, and HTTP long-polling calls.
import { exports } from "cloudflare:workers";
import { BASE, call, type TestApp } from "./helpers";

export type Frame = Record<string, any>;

/** A socket to /faye with every frame it receives kept in order. */
export class Socket {
  readonly received: Frame[] = [];
  closed: { code: number; reason: string } | null = null;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (event) => {
      const frames = JSON.parse(event.data as string);
      this.received.push(...(Array.isArray(frames) ? frames : [frames]));
      this.notify();
    });
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
      this.notify();
    });
  }

  static async open(headers: Record<string, string> = {}): Promise<Socket> {
    const response = await exports.default.fetch(new Request(`${BASE}/faye`, { headers: { ...headers, upgrade: "websocket" } }));
    if (response.status !== 101 || !response.webSocket) throw new Error(`no WebSocket: ${response.status}`);
    response.webSocket.accept();
    return new Socket(response.webSocket);
  }

  private notify() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  send(messages: unknown): void {
    this.ws.send(typeof messages === "string" ? messages : JSON.stringify(messages));
  }

  /** Waits until a received frame matches, and returns it (frames already received count). */
  async next(match: (frame: Frame) => boolean, timeoutMs = 5_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(match);
      if (found) return found;
      if (this.closed) throw new Error(`socket closed ${JSON.stringify(this.closed)} before a match`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame in ${timeoutMs} ms; got ${JSON.stringify(this.received)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends one message and waits for the reply with its id. */
  async request(message: Frame): Promise<Frame> {
    const id = message.id ?? String(++Socket.ids);
    this.send([{ ...message, id }]);
    return this.next((frame) => frame.id === id && frame.channel === message.channel);
  }

  /** The events received on a channel, in order. */
  events(channel: string): Frame[] {
    return this.received.filter((frame) => frame.channel === channel && frame.data !== undefined);
  }

  async waitClosed(timeoutMs = 5_000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (!this.closed) throw new Error("socket still open");
    return this.closed;
  }

  close(): void {
    try {
      this.ws.close(1000, "done");
    } catch {
      // Already closed.
    }
  }

  private static ids = 0;
}

/** A handshake over HTTP, as faye makes it; returns the client id. */
export async function handshake(): Promise<string> {
  const reply = await poll([{ channel: "/meta/handshake", version: "1.0", supportedConnectionTypes: ["websocket", "long-polling"], id: "h" }]);
  if (!reply.json[0]?.successful) throw new Error(`handshake failed: ${JSON.stringify(reply.json)}`);
  return reply.json[0].clientId;
}

/** One long-polling request (a JSON batch). */
export const poll = (messages: unknown, headers: Record<string, string> = {}) =>
  call("POST", "/faye", headers, { body: messages });

/** A connect answered at once (faye asks so when it batches one with other messages). */
export const connectNow = (clientId: string, connectionType = "websocket") => ({
  channel: "/meta/connect",
  clientId,
  connectionType,
  advice: { timeout: 0 },
});

/** A handshaken socket: HTTP handshake, then the socket takes the client id with its first message. */
export async function connectedSocket(): Promise<{ socket: Socket; clientId: string }> {
  const clientId = await handshake();
  const socket = await Socket.open();
  const reply = await socket.request(connectNow(clientId));
  if (!reply.successful) throw new Error(`connect failed: ${JSON.stringify(reply)}`);
  return { socket, clientId };
}

export const subscribe = (socket: Socket, clientId: string, subscription: string | string[], ext: Record<string, unknown>) =>
  socket.request({ channel: "/meta/subscribe", clientId, subscription, ext });

export interface User {
  _id: string;
  userId?: string;
  conversationId: string;
  channel: string;
}

/** A user of the app (signed in when `userId` is given) with a conversation, and its messages channel. */
export async function newUser(target: TestApp, userId?: string): Promise<User> {
  const headers = userId ? await target.user(userId) : target.token;
  const init = await call("POST", "/v1/init", headers, { body: { device: { id: crypto.randomUUID(), platform: "web" }, ...(userId && { userId }) } });
  const id = init.json.appUser._id;
  await call("POST", `/v1/appusers/${id}/messages`, headers, { body: { role: "appUser", text: "first" } });
  const conversation = await call("GET", `/v1/appusers/${id}/conversation`, headers);
  const conversationId = conversation.json.conversation._id;
  return { _id: id, userId, conversationId, channel: `/v1/conversations/${conversationId}` };
}
