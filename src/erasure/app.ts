import { forgetAppUsersOfApp } from "../auth/app-users";
import { forgetApp, forgetKey } from "../auth/lookup";
import { listAppKeys } from "../db/app-keys";
import { findApp, markAppDeletedStatements } from "../db/apps";
import { listWebhooks } from "../db/webhooks";
import { notFound } from "../errors";
import { forgetWebhooks } from "../channels/webhooks/cache";
import { appEraser } from "./app-eraser";

/**
 * Deletes an app. At once, in one D1 transaction: the app reads as gone everywhere (every
 * lookup of it, its app token and its users skips an app being deleted), and its keys, webhooks
 * and whispers are deleted. Its users are then erased in the background by its AppEraser, armed
 * before the transaction: should this request die right after it, the eraser still wakes.
 */
export async function removeApp(env: Env, appId: string): Promise<void> {
  const app = await findApp(env.DB, appId);
  if (!app) throw notFound(`appId: no app '${appId}'`);
  const eraser = appEraser(env, app.id);
  await eraser.arm(app.id);
  const [keys, webhooks] = await Promise.all([listAppKeys(env.DB, app.id), listWebhooks(env.DB, app.id)]);
  await env.DB.batch(markAppDeletedStatements(env.DB, app.id, Date.now()));
  forgetApp(app.id, app.appToken);
  forgetAppUsersOfApp(app.id);
  for (const key of keys) forgetKey(key.id);
  forgetWebhooks(app.id);
  for (const webhook of webhooks) forgetWebhooks(app.id, webhook.id);
  await eraser.start();
}
