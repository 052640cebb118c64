import { listDeliveries, type Delivery } from "../../db/webhook-deliveries";
import {
  deleteWebhook,
  findWebhook,
  insertWebhook,
  listWebhooks,
  setSigningSecret,
  updateWebhook,
  type Webhook,
} from "../../db/webhooks";
import type { Trigger } from "../../enums";
import { badRequest, notFound } from "../../errors";
import { newHexSecret, newId, newSigningSecret } from "../../lib/ids";
import { forgetWebhooks } from "./cache";
import { MAX_JOBS_PER_EVENT } from "./delivery";
import { isRefusedTarget } from "../../outbound/private-host";

/** Every webhook of an app may hear one event: the cap is that of an event's fan-out. */
export const MAX_WEBHOOKS_PER_APP = MAX_JOBS_PER_EVENT;

function checkTarget(env: Env, target: string): string {
  if (isRefusedTarget(env, target)) {
    throw badRequest("target: must not be on a private network or this machine");
  }
  return target;
}

export async function getWebhook(env: Env, appId: string, id: string): Promise<Webhook> {
  const webhook = await findWebhook(env.DB, id);
  if (!webhook || webhook.appId !== appId) throw notFound(`webhookId: no webhook '${id}'`);
  return webhook;
}

export async function createWebhook(env: Env, appId: string, input: { target: string; triggers?: Trigger[] }): Promise<Webhook> {
  const webhook: Webhook = {
    id: newId(),
    appId,
    target: checkTarget(env, input.target),
    triggers: input.triggers ?? ["message"],
    secret: newHexSecret(),
    signingSecret: newSigningSecret(),
    createdAt: Date.now(),
  };
  if (!(await insertWebhook(env.DB, webhook, MAX_WEBHOOKS_PER_APP))) {
    throw badRequest(`webhooks: an app has at most ${MAX_WEBHOOKS_PER_APP} webhooks`);
  }
  forgetWebhooks(appId);
  return webhook;
}

export const appWebhookList = (env: Env, appId: string) => listWebhooks(env.DB, appId);

export async function changeWebhook(
  env: Env,
  appId: string,
  id: string,
  changes: { target?: string; triggers?: Trigger[] },
): Promise<Webhook> {
  const webhook = await getWebhook(env, appId, id);
  const updated = {
    ...webhook,
    target: changes.target === undefined ? webhook.target : checkTarget(env, changes.target),
    triggers: changes.triggers ?? webhook.triggers,
  };
  await updateWebhook(env.DB, updated);
  forgetWebhooks(appId, id);
  return updated;
}

/** A new signing secret; the old one stops signing as soon as this isolate, or another after its cache period, sees it. */
export async function rotateSigningSecret(env: Env, appId: string, id: string): Promise<Webhook> {
  const webhook = await getWebhook(env, appId, id);
  const rotated = { ...webhook, signingSecret: newSigningSecret() };
  await setSigningSecret(env.DB, id, rotated.signingSecret);
  forgetWebhooks(appId, id);
  return rotated;
}

export async function removeWebhook(env: Env, appId: string, id: string): Promise<void> {
  const webhook = await getWebhook(env, appId, id);
  await deleteWebhook(env.DB, webhook.id);
  forgetWebhooks(appId, id);
}

export async function webhookDeliveries(env: Env, appId: string, id: string, limit: number): Promise<Delivery[]> {
  const webhook = await getWebhook(env, appId, id);
  return listDeliveries(env.DB, webhook.id, limit);
}
