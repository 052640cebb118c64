import { subscribe, unsubscribe } from "../conversation/subscription";
import { ApiError } from "../errors";
import { authorizeSubscription, credentialsOf, parseChannel, sameCredential, stillGranted, withGrant, type Grant } from "./channels";
import {
  bayeuxError,
  CONNECTION_TYPES,
  errors,
  failure,
  HANDSHAKE_AGAIN,
  handshakeReply,
  MAX_BATCH,
  META,
  replyTo,
  subscriptions,
  type BayeuxMessage,
  type Reply,
} from "./protocol";

/** A client subscribes to its own channels: a widget needs three. */
export const MAX_SUBSCRIPTIONS = 10;
/** A client's subscriptions come from at most this many distinct credentials (a widget uses one): a socket's state stays small. */
const MAX_GRANTS = 3;
/** A client's grants are checked again on every connect, and before a delivery once this old. */
const RECHECK_MS = 30_000;

/** What granted a client's subscriptions, and when that was last checked. */
export interface Grants {
  list: Grant[];
  checkedAt: number;
}

/**
 * What the protocol needs of the object that holds a client: a socket's object, or the session
 * object of a long-polling client. Subscriptions map each channel to the conversation keeping it.
 */
export interface Host {
  /** The object's id, by which conversations deliver to it. */
  readonly address: string;
  /** The client's network address, taken at the upgrade or the HTTP request: its budgets' key. */
  readonly caller: string;
  /** Whether the client is this object's (a socket takes an id its handshake made, or a long-polling client moving to it). */
  holds(clientId: string): Promise<boolean>;
  /** Takes a client that has just handshaken with this object. */
  begin(clientId: string): Promise<void>;
  subscriptions(): Record<string, string>;
  /** Records one subscription gained (a conversation id) or lost (null), against the latest state. */
  setSubscription(channel: string, conversationId: string | null): Promise<void>;
  grants(): Grants;
  setGrants(grants: Grants): Promise<void>;
  /** Answers a connect: over a socket at once, over HTTP once there are events or the wait is over. */
  connect(message: BayeuxMessage, reply: Reply): Promise<Reply[]>;
  /** Forgets the client (after its subscriptions are dropped). */
  end(): Promise<void>;
}

const isObject = (value: unknown): value is BayeuxMessage => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Runs a batch of messages in order and returns the replies (and, for a connect, the events). A
 * batch of more than MAX_BATCH messages is refused whole, and only its first connect is held: a
 * request's cost is bounded whatever it carries.
 */
export async function process(env: Env, host: Host, messages: unknown[]): Promise<Reply[]> {
  if (messages.length > MAX_BATCH) {
    const refused = errors.badRequest(`at most ${MAX_BATCH} messages per batch`);
    return messages.map((message) => (isObject(message) ? failure(message, refused) : { channel: "/meta/unknown", successful: false, error: refused }));
  }
  const replies: Reply[] = [];
  let connects = 0;
  for (const message of messages) {
    if (isObject(message) && message.channel === META.connect && ++connects > 1) {
      replies.push(failure(message, errors.badRequest("one /meta/connect per batch")));
    } else {
      replies.push(...(await handle(env, host, message)));
    }
  }
  return replies;
}

/** An ApiError (a spent budget) as the message's Bayeux error, with its HTTP status as the code. */
async function orFailure(message: BayeuxMessage, work: () => Promise<Reply[]>): Promise<Reply[]> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ApiError) return [failure(message, bayeuxError(error.status, [], error.description))];
    throw error;
  }
}

/**
 * Checks the client's grants again when `force`d (a connect) or when the last check is
 * RECHECK_MS old: a key deleted, a JWT expired, an app token rotated or a user deleted ends the
 * client (its subscriptions dropped), which must handshake again. Whether it still holds.
 */
export async function recheckGrants(env: Env, host: Host, force: boolean): Promise<boolean> {
  const { list, checkedAt } = host.grants();
  const now = Date.now();
  if (list.length === 0 || (!force && now - checkedAt < RECHECK_MS)) return true;
  const granted = await Promise.all(list.map((grant) => stillGranted(env, grant)));
  if (granted.every(Boolean)) {
    await host.setGrants({ list, checkedAt: now });
    return true;
  }
  await dropSubscriptions(env, host.address, host.subscriptions());
  await host.end();
  return false;
}

/** The answer to a connect whose client has been ended: handshake again, as faye's server advises. */
export const endedConnect = (message: BayeuxMessage): Reply =>
  failure(message, errors.clientUnknown(String(message.clientId)), HANDSHAKE_AGAIN);

async function handle(env: Env, host: Host, message: unknown): Promise<Reply[]> {
  if (!isObject(message) || typeof message.channel !== "string") {
    return [{ channel: "/meta/unknown", successful: false, error: errors.badRequest("a message is an object with a channel") }];
  }
  const channel = message.channel;
  if (channel === META.handshake) {
    const reply = handshakeReply(message);
    if (!reply.successful) return [reply];
    return orFailure(message, async () => {
      await host.begin(reply.clientId!);
      return [reply];
    });
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
  [META.connect]: async (env, host, message) => {
    const type = message.connectionType;
    if (typeof type !== "string") return [failure(message, errors.parameterMissing("connectionType"))];
    if (!(CONNECTION_TYPES as readonly string[]).includes(type)) return [failure(message, errors.conntypeMismatch([type]))];
    if (!(await recheckGrants(env, host, true))) return [endedConnect(message)];
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
      const permission = await authorizeSubscription(env, channel, credentialsOf(message), host.caller);
      if ("error" in permission) {
        error = permission.error;
        break;
      }
      const grants = host.grants();
      const known = grants.list.some((grant) => sameCredential(grant, permission.grant));
      if (!known && grants.list.length >= MAX_GRANTS) {
        error = errors.channelForbidden(name, `at most ${MAX_GRANTS} credentials per client`);
        break;
      }
      if (!(await subscribe(env, permission.conversationId, host.address, name, channel.kind))) {
        error = errors.channelForbidden(name, "this conversation has as many subscribers as it takes");
        break;
      }
      const list = withGrant(grants.list, permission.grant);
      if (list !== grants.list) await host.setGrants({ list, checkedAt: grants.list.length > 0 ? grants.checkedAt : Date.now() });
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
      await unsubscribe(env, conversationId, host.address, name);
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
  await Promise.all([...conversations].map((id) => unsubscribe(env, id, address)));
}

/** Registers a client's subscriptions, taken over from another object, with their conversations. */
export async function addSubscriptions(env: Env, address: string, held: Record<string, string>): Promise<void> {
  await Promise.all(
    Object.entries(held).map(([name, conversationId]) =>
      subscribe(env, conversationId, address, name, parseChannel(name)!.kind),
    ),
  );
}
