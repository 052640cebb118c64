import { config } from "../config";
import { findAppByToken, findApp, type App } from "../db/apps";
import { findAppKey } from "../db/app-keys";
import { LookupCache } from "../lib/ttl-cache";

/** What a JWT's `kid` names: the secret that signs it and, for app keys, the app it belongs to. */
export interface Signer {
  secret: string;
  appId: string | null;
}

// Unknown kids and tokens are cached apart from known ones (LookupCache): guessing never evicts a valid one.
const signers = new LookupCache<Signer>();
const appTokens = new LookupCache<string>();
const apps = new LookupCache<App>();

const ttl = (env: Env) => config(env).authCacheSeconds;

export function findSigner(env: Env, kid: string): Promise<Signer | null> {
  const account = config(env).account;
  if (account && kid === account.keyId) return Promise.resolve({ secret: account.secret, appId: null });
  return signers.getOrLoad(kid, ttl(env), async () => {
    const key = await findAppKey(env.DB, kid);
    return key && { secret: key.secret, appId: key.appId };
  });
}

export function findAppIdByToken(env: Env, token: string): Promise<string | null> {
  return appTokens.getOrLoad(token, ttl(env), async () => (await findAppByToken(env.DB, token))?.id ?? null);
}

/** The app, for checking that it exists and reading its settings (init's `app` object). */
export function cachedApp(env: Env, appId: string): Promise<App | null> {
  return apps.getOrLoad(appId, ttl(env), () => findApp(env.DB, appId));
}

/** Forgets what this isolate cached about a deleted key or app; other isolates expire it by TTL. */
export function forgetKey(keyId: string): void {
  signers.delete(keyId);
}

export function forgetApp(appId: string, appToken: string): void {
  apps.delete(appId);
  appTokens.delete(appToken);
}
