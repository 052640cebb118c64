import { authenticate } from "../auth/authenticate";
import { appUserInScope } from "../auth/authorize";
import { ApiError } from "../errors";
import { errors } from "./protocol";

/**
 * The channels a client may subscribe to, each belonging to one app user:
 * `/v1/conversations/{conversationId}` (messages), `.../activity` (typing) and
 * `/v1/users/{appUserId}` (user-level events).
 */
export type Channel =
  | { kind: "messages"; name: string; conversationId: string }
  | { kind: "activity"; name: string; conversationId: string }
  | { kind: "user"; name: string; appUserId: string };

const ID = "[A-Za-z0-9_-]{1,128}";
const PATTERNS: [RegExp, (id: string, name: string) => Channel][] = [
  [new RegExp(`^/v1/conversations/(${ID})$`), (id, name) => ({ kind: "messages", name, conversationId: id })],
  [new RegExp(`^/v1/conversations/(${ID})/activity$`), (id, name) => ({ kind: "activity", name, conversationId: id })],
  [new RegExp(`^/v1/users/(${ID})$`), (id, name) => ({ kind: "user", name, appUserId: id })],
];

export function parseChannel(name: string): Channel | null {
  for (const [pattern, build] of PATTERNS) {
    const match = pattern.exec(name);
    if (match) return build(match[1], name);
  }
  return null;
}

/** What a subscribe message carries to prove who it is: in `ext` (3.x), or beside it (2.x). */
export interface SubscribeCredentials {
  appUserId?: unknown;
  appToken?: unknown;
  jwt?: unknown;
}

export function credentialsOf(message: { ext?: unknown } & SubscribeCredentials): SubscribeCredentials {
  const ext = message.ext && typeof message.ext === "object" ? (message.ext as SubscribeCredentials) : {};
  return {
    appUserId: ext.appUserId ?? message.appUserId,
    appToken: ext.appToken ?? message.appToken,
    jwt: ext.jwt ?? message.jwt,
  };
}

const text = (value: unknown) => (typeof value === "string" && value !== "" ? value : undefined);

/** Where a permitted channel's subscribers are kept: the conversation object of its app user. */
export type Permission = { conversationId: string } | { error: string };

/**
 * Whether these credentials may receive the channel: the same rules as the REST API for the
 * channel's app user (an app token unless the user requires a JWT; an appUser JWT for that user
 * only; an app JWT for any user of its app). Every channel is kept by its user's conversation.
 */
export async function authorizeSubscription(env: Env, channel: Channel, credentials: SubscribeCredentials): Promise<Permission> {
  const appUserId = text(credentials.appUserId);
  if (!appUserId) return { error: errors.channelForbidden(channel.name, "ext.appUserId is required") };
  try {
    const credential = await authenticate(env, {
      authorization: text(credentials.jwt) && `Bearer ${credentials.jwt}`,
      appToken: text(credentials.appToken),
    });
    if (credential.kind === "jwt" && credential.scope === "account") {
      return { error: errors.channelForbidden(channel.name, "account credentials do not subscribe") };
    }
    const user = await appUserInScope(env, credential.appId, credential, appUserId);
    const owner = channel.kind === "user" ? user.id === channel.appUserId : user.conversationId === channel.conversationId;
    if (!owner) return { error: errors.channelForbidden(channel.name, "the channel belongs to another app user") };
    return { conversationId: user.conversationId };
  } catch (error) {
    if (error instanceof ApiError) return { error: errors.channelForbidden(channel.name, error.description) };
    throw error;
  }
}
