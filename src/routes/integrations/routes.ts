import { Hono } from "hono";
import { z } from "zod";
import { accountAccess } from "../../http/access";
import type { AppEnv } from "../../http/context";
import { describe } from "../../http/openapi";
import { jsonBody, queryParams } from "../../http/validate";
import { appIntegrationList, createIntegration, getIntegration, removeIntegration } from "../../integrations/registry";
import { integrationSchema, presentIntegration } from "../../presenters/integration";
import { checkedSlackToken } from "../../channels/slack/setup";
import { createIntegrationBody, listIntegrationsQuery } from "./schemas";

/** Smooch's integrations API for an app's channels (push, Slack): account-scope JWTs only. */
export const integrationsRoutes = new Hono<AppEnv>();

const tags = ["Integrations"];
const oneIntegration = z.object({ integration: integrationSchema });

integrationsRoutes.post(
  "/apps/:appId/integrations",
  describe({
    summary: "Configure a channel (push, Slack)",
    example: { type: "webpush" },
    description:
      "`fcm` takes the service account key file's JSON (`serviceAccount`); `apn` a token-based .p8 key (`keyId`, " +
      "`teamId`, `bundleId`, `key`, `production`); `webpush` nothing: Parley generates its VAPID key pair and " +
      "returns the public key. One of each type per app. The FCM legacy `serverKey` and APNs `certificate` are " +
      "refused. `slack` takes the Slack app's `botToken` (checked with Slack's auth.test: a refused one is a 400 " +
      "naming `botToken`), `signingSecret` and `channelId` (see the README's Slack section). Private keys, tokens " +
      "and signing secrets are stored and never returned.",
    tags,
    responses: { 201: { description: "The new integration, without its secrets.", schema: oneIntegration } },
  }),
  ...accountAccess,
  jsonBody(createIntegrationBody),
  async (c) => {
    const body = c.req.valid("json");
    // A Slack token is asked who it is before it is kept: a refused one is a 400 naming botToken.
    const input = body.type === "slack" ? { ...body, ...(await checkedSlackToken(c.env, body.botToken)) } : body;
    return c.json({ integration: presentIntegration(await createIntegration(c.env, c.req.param("appId"), input)) }, 201);
  },
);

integrationsRoutes.get(
  "/apps/:appId/integrations",
  describe({
    summary: "List an app's channels",
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
  describe({ summary: "Get a channel", tags, responses: { 200: { description: "The integration.", schema: oneIntegration } } }),
  ...accountAccess,
  async (c) =>
    c.json({ integration: presentIntegration(await getIntegration(c.env, c.req.param("appId"), c.req.param("integrationId"))) }),
);

integrationsRoutes.delete(
  "/apps/:appId/integrations/:integrationId",
  describe({
    summary: "Delete a channel",
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
