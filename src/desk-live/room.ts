import { DurableObject } from "cloudflare:workers";
import { findEntries } from "../db/conversation-index";
import type { z } from "zod";
import type { conversationEntrySchema } from "../presenters/conversation-entry";
import { ApiError, ErrorCode } from "../errors";

/** What the worker tells the room about the socket it hands over (request headers, set by the worker only). */
export const WATCHER_EMAIL = "x-desk-email";
export const WATCHER_EXPIRES = "x-desk-expires";

/**
 * Open Desks an app's room holds, and those one agent may hold in it (a tab each). Every change is
 * sent to each socket, so the room's work per change grows with them: bounded, a signed-in agent
 * opening sockets in a loop cannot make every change of the app cost without end.
 */
export const MAX_SOCKETS_PER_APP = 500;
export const MAX_SOCKETS_PER_AGENT = 20;
/** When a page refused for a full room tries again (it reopens after a growing delay anyway). */
const FULL_RETRY_SECONDS = 30;

/** A close code of the application range: the page signs in again (or learns it may no longer watch). */
export const ACCESS_EXPIRED = { code: 4001, reason: "access expired" } as const;
export const AGENT_REMOVED = { code: 4003, reason: "no longer an agent of this app" } as const;

/** What the page hears (JSON text frames): the README's "The Desk's live channel". */
export type LiveFrame =
  | { type: "conversation"; conversation: z.output<typeof conversationEntrySchema> }
  | { type: "removed"; appUserId: string }
  | { type: "erased"; appUserId: string; messageId: string }
  | { type: "typing"; appUserId: string; active: boolean };

/** What a socket carries through hibernation: who opened it, and until when its Access token holds (ms; null: the local agent). */
interface Watcher {
  email: string;
  expiresAtMs: number | null;
}

/**
 * One app's open Desk pages: the WebSockets of `GET /desk/api/apps/:appId/live`, accepted with the
 * Hibernation API (a socket's watcher rides in its attachment, tagged with the agent's email), so an
 * open but quiet Desk costs nothing. The index consumer tells the room which conversations a batch
 * changed, once it is committed; the room reads their entries from D1 only when someone watches,
 * so a change in an app nobody watches costs one object request and nothing more.
 */
export class DeskRoom extends DurableObject<Env> {
  /** Changes are read and sent one after another: a later read never goes out before an earlier one. */
  private sending: Promise<void> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // The page's keep-alive, answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("expected a WebSocket upgrade", { status: 426 });
    const email = request.headers.get(WATCHER_EMAIL) ?? "";
    const expires = Number(request.headers.get(WATCHER_EXPIRES));
    const watcher: Watcher = { email, expiresAtMs: expires > 0 ? expires * 1000 : null };
    const full = this.fullFor(email);
    if (full) return new ApiError(ErrorCode.TooManyRequests, full, { "Retry-After": String(FULL_RETRY_SECONDS) }).toResponse();
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [email]);
    server.serializeAttachment(watcher);
    await this.scheduleExpiry();
    return new Response(null, { status: 101, webSocket: client });
  }

  /** The conversations of these users changed (their index rows are committed): each watcher gets their entries, or their removal. */
  async changed(appId: string, appUserIds: string[]): Promise<void> {
    if (this.ctx.getWebSockets().length === 0) return;
    const ids = [...new Set(appUserIds)];
    const sent = this.sending.then(async () => {
      const entries = new Map((await findEntries(this.env.DB, appId, ids)).map((entry) => [entry.appUserId, entry]));
      for (const appUserId of ids) {
        // Gone, or without a message left (the list shows only conversations with one): out of the list.
        const entry = entries.get(appUserId);
        this.broadcast(entry && entry.lastActivity !== null ? { type: "conversation", conversation: JSON.parse(entry.json) } : { type: "removed", appUserId });
      }
    });
    this.sending = sent.catch(() => {});
    return sent;
  }

  /** One message of the user's conversation was erased: an open Desk showing it drops it, then hears of the entry as it now stands. */
  async erased(appId: string, appUserId: string, messageId: string): Promise<void> {
    this.broadcast({ type: "erased", appUserId, messageId });
    await this.changed(appId, [appUserId]);
  }

  /** The app user started or stopped typing. */
  async typing(appUserId: string, active: boolean): Promise<void> {
    this.broadcast({ type: "typing", appUserId, active });
  }

  /** The agent was removed from the app: their open pages stop hearing from it. */
  async agentRemoved(email: string): Promise<void> {
    for (const ws of this.ctx.getWebSockets(email)) close(ws, AGENT_REMOVED);
  }

  /** The page sends nothing but its pings, which the runtime answers: anything else is ignored. */
  async webSocketMessage(): Promise<void> {}

  async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    // Completes the closing handshake.
    close(ws, { code: code === 1005 || code === 1006 ? 1000 : code, reason: "closed" });
    await this.scheduleExpiry();
  }

  /** Sockets whose Access token has expired are closed; the alarm is set for the next to expire. */
  async alarm(): Promise<void> {
    const now = Date.now();
    for (const ws of this.ctx.getWebSockets()) {
      const watcher = ws.deserializeAttachment() as Watcher | null;
      if (watcher && watcher.expiresAtMs !== null && watcher.expiresAtMs <= now) close(ws, ACCESS_EXPIRED);
    }
    await this.scheduleExpiry();
  }

  /** Why the room takes no further socket of this agent, if it does not. */
  private fullFor(email: string): string | null {
    const open = (sockets: WebSocket[]) => sockets.filter((ws) => ws.readyState === WebSocket.OPEN).length;
    if (open(this.ctx.getWebSockets(email)) >= MAX_SOCKETS_PER_AGENT) return `live: at most ${MAX_SOCKETS_PER_AGENT} open Desks per agent and app; close one`;
    if (open(this.ctx.getWebSockets()) >= MAX_SOCKETS_PER_APP) return `live: at most ${MAX_SOCKETS_PER_APP} open Desks per app; retry later`;
    return null;
  }

  private async scheduleExpiry(): Promise<void> {
    const expiries = this.ctx
      .getWebSockets()
      .filter((ws) => ws.readyState === WebSocket.OPEN)
      .map((ws) => (ws.deserializeAttachment() as Watcher | null)?.expiresAtMs ?? null)
      .filter((at): at is number => at !== null);
    if (expiries.length > 0) await this.ctx.storage.setAlarm(Math.min(...expiries));
    else await this.ctx.storage.deleteAlarm();
  }

  private broadcast(frame: LiveFrame): void {
    const text = JSON.stringify(frame);
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(text);
      } catch {
        // Closing already: nothing more for it.
      }
    }
  }
}

function close(ws: WebSocket, { code, reason }: { code: number; reason: string }): void {
  try {
    ws.close(code, reason);
  } catch {
    // Closed already.
  }
}
