import { config } from "../../config";
import { listWebhooks, findWebhook, type Webhook } from "../../db/webhooks";
import { TtlCache } from "../../lib/ttl-cache";

const byApp = new TtlCache<Webhook[]>();
const byId = new TtlCache<Webhook | null>();

const ttl = (env: Env) => config(env).authCacheSeconds;

/** The app's webhooks, from D1 at most once per cache period: every posted message needs them. */
export const appWebhooks = (env: Env, appId: string) =>
  byApp.getOrLoad(appId, ttl(env), () => listWebhooks(env.DB, appId));

/** A webhook as the queue consumer sees it; a deleted one is null. */
export const cachedWebhook = (env: Env, id: string) => byId.getOrLoad(id, ttl(env), () => findWebhook(env.DB, id));

/** Forgets what this isolate cached after a change; other isolates see it within the TTL. */
export function forgetWebhooks(appId: string, webhookId?: string): void {
  byApp.delete(appId);
  if (webhookId) byId.delete(webhookId);
}
