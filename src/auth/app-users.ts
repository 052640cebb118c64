import { config } from "../config";
import { resolveAppUser, type AppUser } from "../db/app-users";
import { TtlCache } from "../lib/ttl-cache";

/**
 * App users by app and `_id` or `userId`, kept in the isolate for AUTH_CACHE_SECONDS (at most
 * 5 s): every post, read and upload names one, and reading it from D1 each time was the slowest
 * step of a post. A per-isolate cache rather than a snapshot in the conversation object, because
 * the worker needs the user before it can pick the object (its conversation id) and decide
 * access (its userId, credentialRequired). Changes made through this isolate (profile updates,
 * merges, erasures, the first message, app deletion) forget the entries at once; another isolate
 * sees them within the TTL. What a client can observe meanwhile, only through another isolate:
 * the previous profile in a webhook's `appUser` payload, and a deleted app's app-user routes
 * still answering. A deleted user or erased conversation is refused at once regardless (the
 * conversation object refuses the append), and a merged user's conversation forwards its appends
 * to the survivor. Misses are not cached: a user created meanwhile is found at once.
 */
const appUsers = new TtlCache<AppUser>();

export async function cachedAppUser(env: Env, appId: string, idOrUserId: string): Promise<AppUser | null> {
  const key = `${appId} ${idOrUserId}`;
  const ttl = config(env).authCacheSeconds;
  const hit = appUsers.peek(key, ttl);
  if (hit) return hit.value;
  const user = await resolveAppUser(env.DB, appId, idOrUserId);
  if (user) appUsers.set(key, user, ttl);
  return user;
}

/** Forgets these users wherever this isolate cached them (under any of their ids, merged ones too). */
export function forgetAppUsers(ids: readonly string[]): void {
  appUsers.deleteWhere((user) => ids.includes(user.id));
}

export function forgetAppUsersOfApp(appId: string): void {
  appUsers.deleteWhere((user) => user.appId === appId);
}
