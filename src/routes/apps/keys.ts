import { Hono } from "hono";
import { z } from "zod";
import { appJwt, appKeys, createKey, getKey, removeKey } from "../../apps/keys";
import { accountAccess } from "../../http/access";
import type { AppEnv } from "../../http/context";
import { describe } from "../../http/openapi";
import { jsonBody } from "../../http/validate";
import { keySchema, presentKey } from "../../presenters/app";
import { createKeyBody } from "./schemas";

/** Smooch's account API for an app's secret keys: account-scope JWTs only. */
export const keysRoutes = new Hono<AppEnv>();

const tags = ["Keys"];
const oneKey = z.object({ key: keySchema });

keysRoutes.post(
  "/apps/:appId/keys",
  describe({ summary: "Create a secret key", tags, example: { name: "server" }, responses: { 201: { description: "The new key, with its secret.", schema: oneKey } } }),
  ...accountAccess,
  jsonBody(createKeyBody),
  async (c) => c.json({ key: presentKey(await createKey(c.env, c.req.param("appId"), c.req.valid("json").name)) }, 201),
);

keysRoutes.get(
  "/apps/:appId/keys",
  describe({ summary: "List an app's keys", tags, responses: { 200: { description: "The keys.", schema: z.object({ keys: z.array(keySchema) }) } } }),
  ...accountAccess,
  async (c) => c.json({ keys: (await appKeys(c.env, c.req.param("appId"))).map(presentKey) }),
);

keysRoutes.get(
  "/apps/:appId/keys/:keyId",
  describe({ summary: "Get a key", tags, responses: { 200: { description: "The key.", schema: oneKey } } }),
  ...accountAccess,
  async (c) => c.json({ key: presentKey(await getKey(c.env, c.req.param("appId"), c.req.param("keyId"))) }),
);

keysRoutes.delete(
  "/apps/:appId/keys/:keyId",
  describe({ summary: "Delete a key", description: "JWTs it signed stop working.", tags, responses: { 200: { description: "Done." } } }),
  ...accountAccess,
  async (c) => {
    await removeKey(c.env, c.req.param("appId"), c.req.param("keyId"));
    return c.json({});
  },
);

keysRoutes.get(
  "/apps/:appId/keys/:keyId/jwt",
  describe({
    summary: "Get an app-scope JWT signed with a key",
    tags,
    responses: { 200: { description: "A ready-made app-scope JWT.", schema: z.object({ jwt: z.string() }) } },
  }),
  ...accountAccess,
  async (c) => c.json({ jwt: await appJwt(c.env, c.req.param("appId"), c.req.param("keyId")) }),
);
