import { config } from "../config";
import { listIntegrations, type Integration } from "../db/integrations";
import { TtlCache } from "../lib/ttl-cache";

const byApp = new TtlCache<Integration[]>();

/** The app's integrations, from D1 at most once per cache period: every push and every init needs them. */
export const appIntegrations = (env: Env, appId: string) =>
  byApp.getOrLoad(appId, config(env).authCacheSeconds, () => listIntegrations(env.DB, appId));

/** Forgets what this isolate cached after a change; other isolates see it within the TTL. */
export const forgetIntegrations = (appId: string) => byApp.delete(appId);
