import { Hono } from "hono";
import { z } from "zod";
import { serverAccess } from "../../http/access";
import type { AppEnv } from "../../http/context";
import { describe } from "../../http/openapi";
import { jsonBody, queryParams } from "../../http/validate";
import {
  deliverySchema,
  presentDelivery,
  presentWebhook,
  presentWebhookWithSigningSecret,
  webhookSchema,
  webhookWithSigningSecretSchema,
} from "../../presenters/webhook";
import {
  appWebhookList,
  changeWebhook,
  createWebhook,
  getWebhook,
  removeWebhook,
  rotateSigningSecret,
  webhookDeliveries,
} from "../../channels/webhooks/registry";
import { createWebhookBody, deliveriesQuery, updateWebhookBody } from "./schemas";

export const webhooksRoutes = new Hono<AppEnv>();

const tags = ["Webhooks"];
const oneWebhook = z.object({ webhook: webhookSchema });
const withSigningSecret = z.object({ webhook: webhookWithSigningSecretSchema });

webhooksRoutes.post(
  "/webhooks",
  describe({
    summary: "Create a webhook",
    example: { target: "https://example.com/parley-webhook", triggers: ["message:appUser", "postback"] },
    description:
      "`triggers` defaults to `[\"message\"]` (every message); `postback` and `conversation:read` are heard only when " +
      "named. `events` is the earlier revision's name for `triggers`. At most 10 per app. The response carries " +
      "`signingSecret`, the key of `X-Parley-Signature`, this once.",
    tags,
    responses: { 201: { description: "The new webhook, with its secret and signing secret.", schema: withSigningSecret } },
  }),
  ...serverAccess,
  jsonBody(createWebhookBody),
  async (c) =>
    c.json({ webhook: presentWebhookWithSigningSecret(await createWebhook(c.env, c.get("appId"), c.req.valid("json"))) }, 201),
);

webhooksRoutes.get(
  "/webhooks",
  describe({ summary: "List webhooks", tags, responses: { 200: { description: "The app's webhooks.", schema: z.object({ webhooks: z.array(webhookSchema) }) } } }),
  ...serverAccess,
  async (c) => c.json({ webhooks: (await appWebhookList(c.env, c.get("appId"))).map(presentWebhook) }),
);

webhooksRoutes.get(
  "/webhooks/:webhookId",
  describe({ summary: "Get a webhook", tags, responses: { 200: { description: "The webhook.", schema: oneWebhook } } }),
  ...serverAccess,
  async (c) => c.json({ webhook: presentWebhook(await getWebhook(c.env, c.get("appId"), c.req.param("webhookId"))) }),
);

webhooksRoutes.put(
  "/webhooks/:webhookId",
  describe({ summary: "Update a webhook", tags, example: { triggers: ["message"] }, responses: { 200: { description: "The webhook as it now reads.", schema: oneWebhook } } }),
  ...serverAccess,
  jsonBody(updateWebhookBody),
  async (c) =>
    c.json({ webhook: presentWebhook(await changeWebhook(c.env, c.get("appId"), c.req.param("webhookId"), c.req.valid("json"))) }),
);

webhooksRoutes.post(
  "/webhooks/:webhookId/signingsecret",
  describe({
    summary: "Rotate a webhook's signing secret",
    description: "A new key for `X-Parley-Signature`, returned this once; the old one stops signing within the cache period.",
    tags,
    responses: { 200: { description: "The webhook with its new signing secret.", schema: withSigningSecret } },
  }),
  ...serverAccess,
  async (c) =>
    c.json({ webhook: presentWebhookWithSigningSecret(await rotateSigningSecret(c.env, c.get("appId"), c.req.param("webhookId"))) }),
);

webhooksRoutes.delete(
  "/webhooks/:webhookId",
  describe({ summary: "Delete a webhook", tags, responses: { 200: { description: "Done." } } }),
  ...serverAccess,
  async (c) => {
    await removeWebhook(c.env, c.get("appId"), c.req.param("webhookId"));
    return c.json({});
  },
);

webhooksRoutes.get(
  "/webhooks/:webhookId/deliveries",
  describe({
    summary: "List a webhook's recent deliveries",
    tags,
    responses: { 200: { description: "Newest first.", schema: z.object({ deliveries: z.array(deliverySchema) }) } },
  }),
  ...serverAccess,
  queryParams(deliveriesQuery),
  async (c) => {
    const deliveries = await webhookDeliveries(c.env, c.get("appId"), c.req.param("webhookId"), c.req.valid("query").limit);
    return c.json({ deliveries: deliveries.map(presentDelivery) });
  },
);
