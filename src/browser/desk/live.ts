import type { LiveEvent } from "./types.ts";

/**
 * The server closes with these when the Access token the socket was opened with expires, and when
 * the agent is removed from the app: either way the page loads again (Access signs the agent in
 * again; the picker no longer lists the app).
 */
const RELOAD_CODES = [4001, 4003];
/** A keep-alive the runtime answers without waking the app's room, so that idle proxies keep the socket. */
const PING_MS = 30_000;
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;

export interface LiveHandlers {
  event: (event: LiveEvent) => void;
  /** The channel is (again) open: whatever happened while it was closed must be read again. */
  opened: (reconnected: boolean) => void;
  closed: () => void;
}

/**
 * The app's live channel (a WebSocket on the Desk API), opened again after each close with
 * a growing, jittered delay. A close for an expired Access token reloads the page, so that Access
 * signs the agent in again.
 */
export class LiveChannel {
  private socket: WebSocket | null = null;
  private retryMs = FIRST_RETRY_MS;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pinger: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  private everOpened = false;

  constructor(
    private readonly url: string,
    private readonly handlers: LiveHandlers,
  ) {
    this.connect();
  }

  private connect() {
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onopen = () => {
      this.retryMs = FIRST_RETRY_MS;
      this.pinger = setInterval(() => socket.send("ping"), PING_MS);
      this.handlers.opened(this.everOpened);
      this.everOpened = true;
    };
    socket.onmessage = (frame) => {
      if (typeof frame.data !== "string" || frame.data === "pong") return;
      let event: LiveEvent;
      try {
        event = JSON.parse(frame.data);
      } catch {
        return;
      }
      this.handlers.event(event);
    };
    socket.onclose = (close) => {
      clearInterval(this.pinger);
      if (this.stopped || socket !== this.socket) return;
      this.handlers.closed();
      if (RELOAD_CODES.includes(close.code)) {
        location.reload();
        return;
      }
      const delay = this.retryMs * (0.5 + Math.random() / 2);
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.close(1000);
  }
}
