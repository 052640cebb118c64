import { Hono } from "hono";
import type { AppEnv } from "../../context";
import { listDeliveries, type Delivery } from "../../db/webhook-deliveries";
import { deleteWebhook, findWebhook, insertWebhook, listWebhooks, updateWebhook, type Webhook } from "../../db/webhooks";
import { badRequest, notFound } from "../../errors";
import { newHexSecret, newId } from "../../lib/ids";
import { jsonBody, queryParams } from "../../lib/validate";
import { forgetWebhooks } from "../../webhooks/cache";
import { isPrivateHost, privateTargetsAllowed } from "../../webhooks/targets";
import { serverAccess } from "../chains";
import { createWebhookBody, deliveriesQuery, updateWebhookBody } from "./schemas";

export const MAX_WEBHOOKS_PER_APP = 10;

export const webhooksRoutes = new Hono<AppEnv>();

const presentWebhook = (w: Webhook) => ({ _id: w.id, triggers: w.triggers, secret: w.secret, target: w.target });

const presentDelivery = (d: Delivery) => ({
  _id: d.id,
  messageId: d.messageId,
  trigger: d.trigger,
  attempts: d.attempts,
  lastStatus: d.lastStatus,
  lastError: d.lastError,
  outcome: d.outcome,
  createdAt: new Date(d.createdAt).toISOString(),
  updatedAt: new Date(d.updatedAt).toISOString(),
});

function checkTarget(env: Env, target: string): string {
  if (!privateTargetsAllowed(env) && isPrivateHost(new URL(target).hostname)) {
    throw badRequest("target: must not be on a private network or this machine");
  }
  return target;
}

async function loadWebhook(db: D1Database, appId: string, id: string): Promise<Webhook> {
  const webhook = await findWebhook(db, id);
  if (!webhook || webhook.appId !== appId) throw notFound(`webhookId: no webhook '${id}'`);
  return webhook;
}

webhooksRoutes.post("/webhooks", ...serverAccess, jsonBody(createWebhookBody), async (c) => {
  const body = c.req.valid("json");
  const webhook: Webhook = {
    id: newId(),
    appId: c.get("appId"),
    target: checkTarget(c.env, body.target),
    triggers: body.triggers ?? ["message"],
    secret: newHexSecret(),
    createdAt: Date.now(),
  };
  if (!(await insertWebhook(c.env.DB, webhook, MAX_WEBHOOKS_PER_APP))) {
    throw badRequest(`webhooks: an app has at most ${MAX_WEBHOOKS_PER_APP} webhooks`);
  }
  forgetWebhooks(webhook.appId);
  return c.json({ webhook: presentWebhook(webhook) }, 201);
});

webhooksRoutes.get("/webhooks", ...serverAccess, async (c) =>
  c.json({ webhooks: (await listWebhooks(c.env.DB, c.get("appId"))).map(presentWebhook) }),
);

webhooksRoutes.get("/webhooks/:webhookId", ...serverAccess, async (c) =>
  c.json({ webhook: presentWebhook(await loadWebhook(c.env.DB, c.get("appId"), c.req.param("webhookId"))) }),
);

webhooksRoutes.put("/webhooks/:webhookId", ...serverAccess, jsonBody(updateWebhookBody), async (c) => {
  const body = c.req.valid("json");
  const webhook = await loadWebhook(c.env.DB, c.get("appId"), c.req.param("webhookId"));
  const updated = {
    ...webhook,
    target: body.target === undefined ? webhook.target : checkTarget(c.env, body.target),
    triggers: body.triggers ?? webhook.triggers,
  };
  await updateWebhook(c.env.DB, updated);
  forgetWebhooks(webhook.appId, webhook.id);
  return c.json({ webhook: presentWebhook(updated) });
});

webhooksRoutes.delete("/webhooks/:webhookId", ...serverAccess, async (c) => {
  const webhook = await loadWebhook(c.env.DB, c.get("appId"), c.req.param("webhookId"));
  await deleteWebhook(c.env.DB, webhook.id);
  forgetWebhooks(webhook.appId, webhook.id);
  return c.json({});
});

webhooksRoutes.get("/webhooks/:webhookId/deliveries", ...serverAccess, queryParams(deliveriesQuery), async (c) => {
  const webhook = await loadWebhook(c.env.DB, c.get("appId"), c.req.param("webhookId"));
  const deliveries = await listDeliveries(c.env.DB, webhook.id, c.req.valid("query").limit);
  return c.json({ deliveries: deliveries.map(presentDelivery) });
});
