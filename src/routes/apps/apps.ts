import { Hono } from "hono";
import { z } from "zod";
import { changeApp, createApp, getApp, pageOfApps, rotateAppToken } from "../../apps/apps";
import { accountAccess } from "../../http/access";
import { removeApp } from "../../erasure/app";
import type { AppEnv } from "../../http/context";
import { describe } from "../../http/openapi";
import { jsonBody, queryParams } from "../../http/validate";
import { pagination } from "../../lib/schemas";
import { appSchema, presentApp } from "../../presenters/app";
import { createAppBody, updateAppBody } from "./schemas";

/** Smooch's account API for apps: account-scope JWTs only. */
export const appsRoutes = new Hono<AppEnv>();

const tags = ["Apps"];
const oneApp = z.object({ app: appSchema });
const empty = { 200: { description: "Done." } };

appsRoutes.post(
  "/apps",
  describe({ summary: "Create an app", tags, example: { name: "My app" }, responses: { 201: { description: "The new app.", schema: oneApp } } }),
  ...accountAccess,
  jsonBody(createAppBody),
  async (c) => c.json({ app: presentApp(await createApp(c.env, c.req.valid("json"))) }, 201),
);

appsRoutes.get(
  "/apps",
  describe({
    summary: "List apps",
    tags,
    responses: { 200: { description: "A page of apps, oldest first.", schema: z.object({ apps: z.array(appSchema) }) } },
  }),
  ...accountAccess,
  queryParams(pagination),
  async (c) => c.json({ apps: (await pageOfApps(c.env, c.req.valid("query"))).map(presentApp) }),
);

appsRoutes.get(
  "/apps/:appId",
  describe({ summary: "Get an app", tags, responses: { 200: { description: "The app.", schema: oneApp } } }),
  ...accountAccess,
  async (c) => c.json({ app: presentApp(await getApp(c.env, c.req.param("appId"))) }),
);

appsRoutes.put(
  "/apps/:appId",
  describe({
    summary: "Update an app",
    example: { name: "My renamed app" },
    description: "Renames the app and merges `settings` additively.",
    tags,
    responses: { 200: { description: "The app as it now reads.", schema: oneApp } },
  }),
  ...accountAccess,
  jsonBody(updateAppBody),
  async (c) => c.json({ app: presentApp(await changeApp(c.env, c.req.param("appId"), c.req.valid("json"))) }),
);

appsRoutes.post(
  "/apps/:appId/apptoken",
  describe({
    summary: "Rotate an app's token",
    description:
      "A new `appToken`; the old one stops working within `AUTH_CACHE_SECONDS` (at most 5 s). Devices need the new one.",
    tags,
    responses: { 200: { description: "The app with its new token.", schema: oneApp } },
  }),
  ...accountAccess,
  async (c) => c.json({ app: presentApp(await rotateAppToken(c.env, c.req.param("appId"))) }),
);

appsRoutes.delete(
  "/apps/:appId",
  describe({
    summary: "Delete an app",
    description:
      "Its credentials stop working at once, and its keys, webhooks and whispers are deleted; its users, their " +
      "conversations and images are erased in the background. Repeating the call while that runs resumes it.",
    tags,
    responses: empty,
  }),
  ...accountAccess,
  async (c) => {
    await removeApp(c.env, c.req.param("appId"));
    return c.json({});
  },
);
