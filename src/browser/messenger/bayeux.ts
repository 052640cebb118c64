/**
 * A small Bayeux client for Parley's /faye, written for the messenger's size budget (faye's own
 * browser build alone would exceed it): a handshake over HTTP, then a WebSocket carrying
 * `/meta/connect` and `/meta/subscribe`, or HTTP long-polling where WebSockets are missing or
 * refused. A lost connection is retried with a growing delay; a server that no longer knows the
 * client (`advice.reconnect: "handshake"`) gets a new handshake, and every subscription is made
 * again. `onStatus(true)` is called each time all subscriptions are confirmed: whoever listens
 * refetches what may have been missed while down.
 */

type Frame = Record<string, any>;

export type Transport = "websocket" | "long-polling";

export interface BayeuxOptions {
  /** The endpoint, e.g. https://parley.example.com/faye. */
  url: string;
  /** What each /meta/subscribe carries in `ext` (the credentials). */
  ext: () => Record<string, unknown>;
  onStatus: (up: boolean) => void;
}

/** The server holds a connect this long (src/realtime/protocol.ts); silence beyond it means a dead line. */
const HELD_CONNECT_MS = 30_000;
const SILENCE_MS = HELD_CONNECT_MS + 15_000;
const MAX_RETRY_MS = 15_000;

export class BayeuxClient {
  transport: Transport | undefined;
  private readonly handlers = new Map<string, (data: any) => void>();
  private clientId = "";
  private socket: WebSocket | undefined;
  private webSocketRefused = false;
  /** Bumped whenever a session ends: callbacks of an older session do nothing. */
  private session = 0;
  private retryMs = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private silenceTimer: ReturnType<typeof setTimeout> | undefined;
  private unconfirmed = new Set<string>();
  private up = false;
  private stopped = true;
  private ids = 0;

  constructor(private readonly options: BayeuxOptions) {}

  subscribe(channel: string, handler: (data: any) => void): void {
    this.handlers.set(channel, handler);
    if (!this.stopped && this.clientId) this.send([this.subscribeMessage(channel)]);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.open(this.session);
  }

  stop(): void {
    this.stopped = true;
    this.end();
  }

  /** The network went away (the browser says so): down at once, rather than after a timeout. */
  drop(): void {
    if (!this.stopped) this.lost(this.session, 0, MAX_RETRY_MS);
  }

  /** The network is back: try now rather than after the pending delay. */
  retryNow(): void {
    if (this.stopped || this.up) return;
    this.lost(this.session, 0);
  }

  private async open(session: number): Promise<void> {
    try {
      const useSocket = typeof WebSocket === "function" && !this.webSocketRefused;
      const [reply] = await this.post([
        {
          channel: "/meta/handshake",
          version: "1.0",
          supportedConnectionTypes: useSocket ? ["websocket", "long-polling"] : ["long-polling"],
          id: this.nextId(),
        },
      ]);
      if (session !== this.session) return;
      if (!reply?.successful) throw new Error(reply?.error ?? "handshake refused");
      this.clientId = reply.clientId;
      this.unconfirmed = new Set(this.handlers.keys());
      const first = [{ ...this.connectMessage(useSocket ? "websocket" : "long-polling"), advice: { timeout: 0 } }, ...[...this.handlers.keys()].map((c) => this.subscribeMessage(c))];
      if (useSocket) this.openSocket(session, first);
      else await this.longPoll(session, first);
    } catch {
      this.lost(session);
    }
  }

  private openSocket(session: number, first: Frame[]): void {
    this.transport = "websocket";
    const socket = new WebSocket(this.options.url.replace(/^http/, "ws"));
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.send(first);
      this.watchSilence(session);
    };
    socket.onmessage = (event) => {
      if (session !== this.session) return;
      try {
        this.receive(session, [JSON.parse(String(event.data))].flat());
      } catch {
        // Not Bayeux: ignored.
      }
    };
    socket.onclose = () => {
      if (session !== this.session) return;
      // A socket that never opened (a proxy without WebSockets): long-polling from now on.
      if (!opened) this.webSocketRefused = true;
      this.lost(session, opened ? undefined : 0);
    };
  }

  private async longPoll(session: number, first: Frame[]): Promise<void> {
    this.transport = "long-polling";
    let batch = first;
    while (session === this.session) {
      const replies = await this.post(batch, HELD_CONNECT_MS + 15_000);
      if (session !== this.session) return;
      this.receive(session, replies);
      batch = [this.connectMessage("long-polling")];
    }
  }

  private receive(session: number, frames: Frame[]): void {
    for (const frame of frames) {
      if (session !== this.session) return;
      if (frame.advice?.reconnect === "handshake" || (frame.successful === false && String(frame.error).startsWith("401"))) {
        this.lost(session, 0);
        return;
      }
      if (frame.channel === "/meta/connect") {
        if (!frame.successful) {
          this.lost(session);
          return;
        }
        this.watchSilence(session);
        if (this.transport === "websocket") this.send([this.connectMessage("websocket")]);
        if (this.unconfirmed.size === 0) this.setUp(true);
      } else if (frame.channel === "/meta/subscribe") {
        for (const channel of [frame.subscription].flat()) {
          if (frame.successful) this.unconfirmed.delete(channel);
          else console.warn(`Parley: subscribing to ${channel} failed: ${frame.error}`);
        }
        if (this.unconfirmed.size === 0) this.setUp(true);
      } else if (!String(frame.channel).startsWith("/meta/") && frame.data !== undefined) {
        this.handlers.get(frame.channel)?.(frame.data);
      }
    }
  }

  /** Sends frames on this session's transport: the socket, or a request of their own. */
  private send(frames: Frame[]): void {
    if (this.transport === "websocket") {
      if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frames));
    } else {
      const session = this.session;
      this.post(frames).then(
        (replies) => this.receive(session, replies),
        () => this.lost(session),
      );
    }
  }

  private async post(frames: Frame[], timeoutMs = 15_000): Promise<Frame[]> {
    const response = await fetch(this.options.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(frames),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw new Error(`/faye answered ${response.status}`);
    return [await response.json()].flat();
  }

  private connectMessage(connectionType: Transport): Frame {
    return { channel: "/meta/connect", clientId: this.clientId, connectionType, id: this.nextId() };
  }

  private subscribeMessage(channel: string): Frame {
    return { channel: "/meta/subscribe", clientId: this.clientId, subscription: channel, ext: this.options.ext(), id: this.nextId() };
  }

  private watchSilence(session: number): void {
    clearTimeout(this.silenceTimer);
    this.silenceTimer = setTimeout(() => this.lost(session), SILENCE_MS);
  }

  private setUp(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    if (up) this.retryMs = 0;
    this.options.onStatus(up);
  }

  /** Ends this session and, unless stopped, opens another after `delayMs` (by default, backing off). */
  private lost(session: number, delayMs?: number, minimumRetryMs = 0): void {
    if (session !== this.session) return;
    this.end();
    this.setUp(false);
    if (this.stopped) return;
    this.retryMs = Math.max(minimumRetryMs, Math.min(MAX_RETRY_MS, this.retryMs ? this.retryMs * 2 : 1_000));
    const next = this.session;
    this.retryTimer = setTimeout(() => void this.open(next), delayMs ?? this.retryMs);
  }

  private end(): void {
    this.session += 1;
    clearTimeout(this.retryTimer);
    clearTimeout(this.silenceTimer);
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      socket.onclose = socket.onmessage = socket.onopen = null;
      socket.close();
    }
  }

  private nextId(): string {
    return String(++this.ids);
  }
}
