import { conversationStub } from "../conversation/stub";
import { authorizeSubscription, credentialsOf, parseChannel } from "./channels";
import {
  CONNECTION_TYPES,
  errors,
  failure,
  HANDSHAKE_AGAIN,
  handshakeReply,
  META,
  replyTo,
  subscriptions,
  type BayeuxMessage,
  type Reply,
} from "./protocol";

/** A client subscribes to its own channels: a widget needs three. */
export const MAX_SUBSCRIPTIONS = 10;

/**
 * What the protocol needs of the object that holds a client: a socket's object, or the session
 * object of a long-polling client. Subscriptions map each channel to the conversation keeping it.
 */
export interface Host {
  /** The object's id, by which conversations deliver to it. */
  readonly address: string;
  /** Whether the client is this object's, adopting an id handshaken moments ago. */
  holds(clientId: string): Promise<boolean>;
  /** Takes a client that has just handshaken with this object. */
  begin(clientId: string): Promise<void>;
  subscriptions(): Record<string, string>;
  /** Records one subscription gained (a conversation id) or lost (null), against the latest state. */
  setSubscription(channel: string, conversationId: string | null): Promise<void>;
  /** Answers a connect: over a socket at once, over HTTP once there are events or the wait is over. */
  connect(message: BayeuxMessage, reply: Reply): Promise<Reply[]>;
  /** Forgets the client (after its subscriptions are dropped). */
  end(): Promise<void>;
}

const isObject = (value: unknown): value is BayeuxMessage => typeof value === "object" && value !== null && !Array.isArray(value);

/** Runs a batch of messages in order and returns the replies (and, for a connect, the events). */
export async function process(env: Env, host: Host, messages: unknown[]): Promise<Reply[]> {
  const replies: Reply[] = [];
  for (const message of messages) replies.push(...(await handle(env, host, message)));
  return replies;
}

async function handle(env: Env, host: Host, message: unknown): Promise<Reply[]> {
  if (!isObject(message) || typeof message.channel !== "string") {
    return [{ channel: "/meta/unknown", successful: false, error: errors.badRequest("a message is an object with a channel") }];
  }
  const channel = message.channel;
  if (channel === META.handshake) {
    const reply = handshakeReply(message);
    if (reply.successful) await host.begin(reply.clientId!);
    return [reply];
  }
  if (!channel.startsWith("/meta/")) {
    return [failure(message, errors.channelForbidden(channel, "clients may not publish"))];
  }
  const handler = HANDLERS[channel];
  if (!handler) return [failure(message, errors.channelForbidden(channel))];
  if (typeof message.clientId !== "string") return [failure(message, errors.parameterMissing("clientId"))];
  if (!(await host.holds(message.clientId))) {
    return [failure(message, errors.clientUnknown(message.clientId), HANDSHAKE_AGAIN)];
  }
  return handler(env, host, message);
}

type Handler = (env: Env, host: Host, message: BayeuxMessage) => Promise<Reply[]>;

const HANDLERS: Record<string, Handler> = {
  [META.connect]: async (_env, host, message) => {
    const type = message.connectionType;
    if (typeof type !== "string") return [failure(message, errors.parameterMissing("connectionType"))];
    if (!(CONNECTION_TYPES as readonly string[]).includes(type)) return [failure(message, errors.conntypeMismatch([type]))];
    return host.connect(message, { ...replyTo(message), successful: true });
  },

  [META.subscribe]: async (env, host, message) => {
    const channels = subscriptions(message);
    if (!channels) return [failure(message, errors.parameterMissing("subscription"))];
    let error: string | undefined;
    for (const name of channels) {
      const channel = parseChannel(name);
      if (!channel) {
        error = name.includes("*") || name.startsWith("/meta/") ? errors.channelForbidden(name) : errors.channelUnknown(name);
        break;
      }
      const held = host.subscriptions();
      if (!(name in held) && Object.keys(held).length >= MAX_SUBSCRIPTIONS) {
        error = errors.channelForbidden(name, `at most ${MAX_SUBSCRIPTIONS} subscriptions per client`);
        break;
      }
      const permission = await authorizeSubscription(env, channel, credentialsOf(message));
      if ("error" in permission) {
        error = permission.error;
        break;
      }
      await conversationStub(env, permission.conversationId).subscribe(host.address, name, channel.kind);
      await host.setSubscription(name, permission.conversationId);
    }
    return [{ ...replyTo(message), successful: !error, subscription: message.subscription as string | string[], ...(error && { error }) }];
  },

  [META.unsubscribe]: async (env, host, message) => {
    const channels = subscriptions(message);
    if (!channels) return [failure(message, errors.parameterMissing("subscription"))];
    for (const name of channels) {
      const conversationId = host.subscriptions()[name];
      if (conversationId === undefined) continue;
      await conversationStub(env, conversationId).unsubscribe(host.address, name);
      await host.setSubscription(name, null);
    }
    return [{ ...replyTo(message), successful: true, subscription: message.subscription as string | string[] }];
  },

  [META.disconnect]: async (env, host, message) => {
    await dropSubscriptions(env, host.address, host.subscriptions());
    await host.end();
    return [{ ...replyTo(message), successful: true }];
  },
};

/** Tells each conversation the client had subscribed at that it is gone. */
export async function dropSubscriptions(env: Env, address: string, held: Record<string, string>): Promise<void> {
  const conversations = new Set(Object.values(held));
  await Promise.all([...conversations].map((id) => conversationStub(env, id).unsubscribe(address)));
}

/** Registers a client's subscriptions, taken over from another object, with their conversations. */
export async function addSubscriptions(env: Env, address: string, held: Record<string, string>): Promise<void> {
  await Promise.all(
    Object.entries(held).map(([name, conversationId]) =>
      conversationStub(env, conversationId).subscribe(address, name, parseChannel(name)!.kind),
    ),
  );
}
