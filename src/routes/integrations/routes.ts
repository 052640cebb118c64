import { Hono } from "hono";
import { z } from "zod";
import { accountAccess } from "../../http/access";
import type { AppEnv } from "../../http/context";
import { describe } from "../../http/openapi";
import { jsonBody, queryParams } from "../../http/validate";
import { configureIntegration } from "../../channels/integrations";
import { appIntegrationList, createIntegration, getIntegration, removeIntegration } from "../../integrations/registry";
import { integrationSchema, presentIntegration } from "../../presenters/integration";
import { createIntegrationBody, listIntegrationsQuery } from "./schemas";

/** Smooch's integrations API for an app's channels (push, Slack): account-scope JWTs only. */
export const integrationsRoutes = new Hono<AppEnv>();

const tags = ["Integrations"];
const oneIntegration = z.object({ integration: integrationSchema });

integrationsRoutes.post(
  "/apps/:appId/integrations",
  describe({
    summary: "Configure a push or email channel",
    example: { type: "webpush" },
    description:
      "`fcm` takes the service account key file's JSON (`serviceAccount`); `apn` a token-based .p8 key (`keyId`, " +
      "`teamId`, `bundleId`, `key`, `production`); `webpush` nothing: Parley generates its VAPID key pair and " +
      "returns the public key; `email` the business's addresses (`to`, 1 to 10) and an optional `fromName` " +
      "(see the README's Email section). One of each type per app. The FCM legacy `serverKey` and APNs `certificate` are " +
      "refused. Private keys are stored and never returned.",
    tags,
    responses: { 201: { description: "The new integration, without its secrets.", schema: oneIntegration } },
  }),
  ...accountAccess,
  jsonBody(createIntegrationBody),
  async (c) =>
    c.json({ integration: presentIntegration(await createIntegration(c.env, c.req.param("appId"), () => configureIntegration(c.req.valid("json"), c.env))) }, 201),
);

integrationsRoutes.get(
  "/apps/:appId/integrations",
  describe({
    summary: "List an app's push channels",
    tags,
    responses: { 200: { description: "Oldest first.", schema: z.object({ integrations: z.array(integrationSchema) }) } },
  }),
  ...accountAccess,
  queryParams(listIntegrationsQuery),
  async (c) => {
    const integrations = await appIntegrationList(c.env, c.req.param("appId"), c.req.valid("query").types);
    return c.json({ integrations: integrations.map(presentIntegration) });
  },
);

integrationsRoutes.get(
  "/apps/:appId/integrations/:integrationId",
  describe({ summary: "Get a push channel", tags, responses: { 200: { description: "The integration.", schema: oneIntegration } } }),
  ...accountAccess,
  async (c) =>
    c.json({ integration: presentIntegration(await getIntegration(c.env, c.req.param("appId"), c.req.param("integrationId"))) }),
);

integrationsRoutes.delete(
  "/apps/:appId/integrations/:integrationId",
  describe({
    summary: "Delete a push channel",
    description: "Its keys are deleted; pushes through it stop within the cache period.",
    tags,
    responses: { 200: { description: "Done." } },
  }),
  ...accountAccess,
  async (c) => {
    await removeIntegration(c.env, c.req.param("appId"), c.req.param("integrationId"));
    return c.json({});
  },
);
