import { decodeJwt } from "jose";
import { cachedAppUser } from "../auth/app-users";
import { appUserInScope } from "../auth/authorize";
import type { Credential } from "../auth/credential";
import { authenticateLimited } from "../auth/guessing";
import { cachedApp, findSigner } from "../auth/lookup";
import { enforceRateLimit } from "../auth/rate-limit";
import type { AppUser } from "../db/app-users";
import { ApiError, ErrorCode } from "../errors";
import { sha256Hex } from "../lib/hex";
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

/**
 * A credential that granted subscriptions, kept so that it can be checked again: an app token by
 * the first 64 bits of its SHA-256 (a rotation changes it), a JWT by its key and expiry; and the
 * app users (`_id`s) whose channels it granted.
 */
export type Grant = { app: string; users: string[] } & ({ by: "token"; token: string } | { by: "jwt"; key: string; exp: number | null });

/** Where a permitted channel's subscribers are kept (its app user's conversation), and what granted it. */
export type Permission = { conversationId: string; grant: Grant } | { error: string };

async function tokenDigest(token: string): Promise<string> {
  return (await sha256Hex(token)).slice(0, 16);
}

async function grantOf(credential: Credential, credentials: SubscribeCredentials, user: AppUser): Promise<Grant> {
  if (credential.kind === "appToken") return { app: user.appId, users: [user.id], by: "token", token: await tokenDigest(String(credentials.appToken)) };
  const { exp } = decodeJwt(String(credentials.jwt));
  return { app: user.appId, users: [user.id], by: "jwt", key: "keyId" in credential ? credential.keyId : "", exp: typeof exp === "number" ? exp : null };
}

/** One refusal for every reason but a missing field and a rate limit: it never tells whether a user exists. */
const refusal = (channel: Channel) => errors.channelForbidden(channel.name, "these credentials do not grant this channel");

/**
 * Whether these credentials may receive the channel: the same rules as the REST API for the
 * channel's app user (an app token unless the user requires a JWT; an appUser JWT for that user
 * only; an app JWT for any user of its app). Every channel is kept by its user's conversation.
 * The credential is checked as REST checks it, from the caller's address: failures spend the
 * failed-authentication budget, and every check the caller's request budget.
 */
export async function authorizeSubscription(env: Env, channel: Channel, credentials: SubscribeCredentials, caller: string): Promise<Permission> {
  const appUserId = text(credentials.appUserId);
  if (!appUserId) return { error: errors.channelForbidden(channel.name, "ext.appUserId is required") };
  try {
    const credential = await authenticateLimited(
      env,
      { authorization: text(credentials.jwt) && `Bearer ${credentials.jwt}`, appToken: text(credentials.appToken) },
      caller,
    );
    await enforceRateLimit(env, credential, caller);
    if (credential.kind === "jwt" && credential.scope === "account") return { error: refusal(channel) };
    const user = await appUserInScope(env, credential.appId, credential, appUserId);
    const owner = channel.kind === "user" ? user.id === channel.appUserId : user.conversationId === channel.conversationId;
    if (!owner) return { error: refusal(channel) };
    return { conversationId: user.conversationId, grant: await grantOf(credential, credentials, user) };
  } catch (error) {
    if (error instanceof ApiError && error.code === ErrorCode.TooManyRequests) return { error: errors.tooManyRequests(error.description) };
    if (error instanceof ApiError) return { error: refusal(channel) };
    throw error;
  }
}

/** Whether what granted a subscription still would: the key or token, the expiry, the user (caches trusted up to AUTH_CACHE_SECONDS). */
export async function stillGranted(env: Env, grant: Grant): Promise<boolean> {
  if (grant.by === "jwt") {
    if (grant.exp !== null && grant.exp * 1000 <= Date.now()) return false;
    if ((await findSigner(env, grant.key))?.appId !== grant.app) return false;
  } else {
    const app = await cachedApp(env, grant.app);
    if (!app || (await tokenDigest(app.appToken)) !== grant.token) return false;
  }
  const users = await Promise.all(grant.users.map((id) => cachedAppUser(env, grant.app, id)));
  return users.every((user) => user !== null && !(grant.by === "token" && user.credentialRequired));
}

/** Whether two grants are by the same credential. */
export const sameCredential = (a: Grant, b: Grant) => JSON.stringify({ ...a, users: [] }) === JSON.stringify({ ...b, users: [] });

/** The client's grants with one more: a credential it already holds gains the user. */
export function withGrant(list: Grant[], grant: Grant): Grant[] {
  const held = list.find((g) => sameCredential(g, grant));
  if (!held) return [...list, grant];
  if (grant.users.every((id) => held.users.includes(id))) return list;
  return list.map((g) => (g === held ? { ...g, users: [...g.users, ...grant.users] } : g));
}
