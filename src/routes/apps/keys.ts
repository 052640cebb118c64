import { Hono } from "hono";
import { SignJWT } from "jose";
import { cachedApp, forgetKey } from "../../auth/lookup";
import { accountAccess } from "../chains";
import type { AppEnv } from "../../context";
import { deleteAppKey, findAppKey, insertAppKey, listAppKeys } from "../../db/app-keys";
import { notFound } from "../../errors";
import { newId, newKeySecret } from "../../lib/ids";
import { jsonBody } from "../../lib/validate";
import { presentKey } from "./present";
import { createKeyBody } from "./schemas";

/** Smooch's account API for an app's secret keys: account-scope JWTs only. */
export const keysRoutes = new Hono<AppEnv>();

async function requireApp(env: Env, appId: string) {
  if (!(await cachedApp(env, appId))) throw notFound(`appId: no app '${appId}'`);
}

async function loadKey(env: Env, appId: string, keyId: string) {
  const key = await findAppKey(env.DB, keyId);
  if (!key || key.appId !== appId) throw notFound(`keyId: no key '${keyId}' in app '${appId}'`);
  return key;
}

keysRoutes.post("/apps/:appId/keys", ...accountAccess, jsonBody(createKeyBody), async (c) => {
  const appId = c.req.param("appId");
  await requireApp(c.env, appId);
  const key = { id: newId(), appId, name: c.req.valid("json").name, secret: newKeySecret(), createdAt: Date.now() };
  await insertAppKey(c.env.DB, key);
  return c.json({ key: presentKey(key) }, 201);
});

keysRoutes.get("/apps/:appId/keys", ...accountAccess, async (c) => {
  const appId = c.req.param("appId");
  await requireApp(c.env, appId);
  return c.json({ keys: (await listAppKeys(c.env.DB, appId)).map(presentKey) });
});

keysRoutes.get("/apps/:appId/keys/:keyId", ...accountAccess, async (c) => {
  return c.json({ key: presentKey(await loadKey(c.env, c.req.param("appId"), c.req.param("keyId"))) });
});

keysRoutes.delete("/apps/:appId/keys/:keyId", ...accountAccess, async (c) => {
  const key = await loadKey(c.env, c.req.param("appId"), c.req.param("keyId"));
  await deleteAppKey(c.env.DB, key.appId, key.id);
  forgetKey(key.id);
  return c.json({});
});

keysRoutes.get("/apps/:appId/keys/:keyId/jwt", ...accountAccess, async (c) => {
  const key = await loadKey(c.env, c.req.param("appId"), c.req.param("keyId"));
  const jwt = await new SignJWT({ scope: "app" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT", kid: key.id })
    .setIssuedAt()
    .sign(new TextEncoder().encode(key.secret));
  return c.json({ jwt });
});
