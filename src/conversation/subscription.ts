// The contract between a conversation and the realtime clients subscribed to it: the one module
// through which the two kinds of Durable Object call each other. realtime/ imports it; nothing
// here or in conversation/ imports realtime/. The conversation calls its subscribers back only
// through `Subscriber`, which RealtimeClient implements: that call is declared as a callback
// beside the layer rules (BINDINGS in test/architecture/imports.ts).
import { conversationStub } from "./stub";

/** What a conversation publishes to a realtime client: a channel and its payload. */
export interface RealtimeEvent {
  channel: string;
  data: unknown;
}

/** Which of a conversation's channels a subscription is on. */
export type ChannelKind = "messages" | "activity" | "user";

/** What a subscribed client offers the conversation (RealtimeClient implements it). */
export interface Subscriber {
  /** False when the client's socket or session is gone: it will not be sent to again. */
  deliver(events: RealtimeEvent[]): Promise<boolean>;
  /** The channels' user is deleted: the client drops them (and ends if it has no others). */
  revoke(channels: string[]): Promise<void>;
}

/** The subscribed client at this address (the id it subscribed with), called back by the conversation. */
export const subscriberAt = (env: Env, address: string): Subscriber => env.REALTIME.get(env.REALTIME.idFromString(address));

/** Subscribes a client to one of a conversation's channels; false when the conversation has as many subscribers as it takes. */
export const subscribe = (env: Env, conversationId: string, address: string, channel: string, kind: ChannelKind): Promise<boolean> =>
  conversationStub(env, conversationId).subscribe(address, channel, kind);

/** Drops one subscription of a client to a conversation, or all of them. */
export const unsubscribe = (env: Env, conversationId: string, address: string, channel?: string): Promise<void> =>
  conversationStub(env, conversationId).unsubscribe(address, channel);
