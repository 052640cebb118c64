/**
 * Bayeux 1.0 as faye speaks it: message shapes, the error strings clients parse
 * (`code:params:text`), the advice a server gives, and client ids.
 */
import { toHex } from "../lib/hex";

export const BAYEUX_VERSION = "1.0";

export const CONNECTION_TYPES = ["websocket", "long-polling", "cross-origin-long-polling", "callback-polling"] as const;

/**
 * How long a `/meta/connect` is held when there is nothing to answer it with (faye clients wait
 * 1.2× this long, and ping an open socket every half of it). A held connect is what tells a
 * client at once that its connection dropped: the request fails, and it reconnects.
 */
export const CONNECT_TIMEOUT_MS = 30_000;

/** The advice with every successful connect: come back at once, and expect to wait this long. */
export const CONNECT_ADVICE: Advice = { reconnect: "retry", interval: 0, timeout: CONNECT_TIMEOUT_MS };

/** A message as a client sends it; every field is checked before use. */
export interface BayeuxMessage {
  channel?: unknown;
  clientId?: unknown;
  id?: unknown;
  subscription?: unknown;
  connectionType?: unknown;
  supportedConnectionTypes?: unknown;
  version?: unknown;
  advice?: unknown;
  ext?: unknown;
  data?: unknown;
  [field: string]: unknown;
}

export interface Advice {
  reconnect: "retry" | "handshake" | "none";
  interval?: number;
  timeout?: number;
}

/** What the server answers on a meta channel, and the events it delivers. */
export interface Reply {
  channel: string;
  successful?: boolean;
  id?: string;
  clientId?: string;
  error?: string;
  advice?: Advice;
  subscription?: string | string[];
  version?: string;
  supportedConnectionTypes?: readonly string[];
  data?: unknown;
}

/** `code:params:text`; colons and commas inside the parts would break the client's parse. */
export const bayeuxError = (code: number, params: string[], text: string) =>
  `${code}:${params.map((p) => p.replace(/[:,]/g, "_")).join(",")}:${text.replace(/:/g, " -")}`;

export const errors = {
  badRequest: (text: string) => bayeuxError(400, [], text),
  clientUnknown: (clientId: string) => bayeuxError(401, [clientId], "Unknown client"),
  parameterMissing: (name: string) => bayeuxError(402, [name], "Missing required parameter"),
  channelForbidden: (channel: string, why = "Forbidden channel") => bayeuxError(403, [channel], why),
  channelUnknown: (channel: string) => bayeuxError(404, [channel], "Unknown channel"),
  channelInvalid: (channel: string) => bayeuxError(405, [channel], "Invalid channel"),
  conntypeMismatch: (types: string[]) => bayeuxError(301, types, "Connection types not supported"),
  tooManyRequests: (text: string) => bayeuxError(429, [], text),
};

/** The reply skeleton for a message: its channel and id echoed, as faye does. */
export function replyTo(message: BayeuxMessage, channel = String(message.channel)): Reply {
  const reply: Reply = { channel };
  if (typeof message.id === "string" || typeof message.id === "number") reply.id = String(message.id);
  if (typeof message.clientId === "string") reply.clientId = message.clientId;
  return reply;
}

export function failure(message: BayeuxMessage, error: string, advice?: Advice): Reply {
  const { clientId: _unknown, ...reply } = replyTo(message);
  return { ...reply, successful: false, error, ...(advice && { advice }) };
}

export const HANDSHAKE_AGAIN: Advice = { reconnect: "handshake", interval: 0 };

/** Meta channels and what a client may do on them. */
export const META = {
  handshake: "/meta/handshake",
  connect: "/meta/connect",
  subscribe: "/meta/subscribe",
  unsubscribe: "/meta/unsubscribe",
  disconnect: "/meta/disconnect",
} as const;

export const isMeta = (channel: string) => channel.startsWith("/meta/");

/** The channels a message names, checked: strings, or arrays of strings as subscribe allows. */
export function subscriptions(message: BayeuxMessage): string[] | null {
  const value = message.subscription;
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string")) return value;
  return null;
}

/** A batch (one request, one frame) of more messages than this is refused whole: a widget sends at most a few. */
export const MAX_BATCH = 20;

/**
 * Client ids are random and unguessable, and only the object a handshake created accepts one:
 * an id the server never issued, or one that has ended, is told to handshake again.
 */
export function newClientId(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(16)));
}

export function handshakeReply(message: BayeuxMessage): Reply {
  const reply = replyTo(message, META.handshake);
  if (message.version === undefined) return failure(message, errors.parameterMissing("version"));
  const offered = message.supportedConnectionTypes;
  if (!Array.isArray(offered)) return failure(message, errors.parameterMissing("supportedConnectionTypes"));
  if (!offered.some((type) => (CONNECTION_TYPES as readonly unknown[]).includes(type))) {
    return failure(message, errors.conntypeMismatch(offered.filter((t): t is string => typeof t === "string")));
  }
  return {
    ...reply,
    successful: true,
    version: BAYEUX_VERSION,
    supportedConnectionTypes: CONNECTION_TYPES,
    clientId: newClientId(),
    advice: CONNECT_ADVICE,
  };
}
