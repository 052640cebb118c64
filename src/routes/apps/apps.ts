import { Hono } from "hono";
import { forgetApp, forgetKey } from "../../auth/lookup";
import { accountAccess } from "../chains";
import type { AppEnv } from "../../context";
import { listAppKeys } from "../../db/app-keys";
import { deleteApp, findApp, insertApp, listApps, updateApp } from "../../db/apps";
import { notFound } from "../../errors";
import { newId, newToken } from "../../lib/ids";
import { pagination } from "../../lib/schemas";
import { jsonBody, queryParams } from "../../lib/validate";
import { presentApp } from "./present";
import { createAppBody, updateAppBody } from "./schemas";

/** Smooch's account API for apps: account-scope JWTs only. */
export const appsRoutes = new Hono<AppEnv>();

async function loadApp(db: D1Database, appId: string) {
  const app = await findApp(db, appId);
  if (!app) throw notFound(`appId: no app '${appId}'`);
  return app;
}

appsRoutes.post("/apps", ...accountAccess, jsonBody(createAppBody), async (c) => {
  const body = c.req.valid("json");
  const app = { id: newId(), name: body.name, appToken: newToken(25), settings: body.settings ?? {}, createdAt: Date.now() };
  await insertApp(c.env.DB, app);
  return c.json({ app: presentApp(app) }, 201);
});

appsRoutes.get("/apps", ...accountAccess, queryParams(pagination), async (c) => {
  const { limit, offset } = c.req.valid("query");
  const apps = await listApps(c.env.DB, limit, offset);
  return c.json({ apps: apps.map(presentApp) });
});

appsRoutes.get("/apps/:appId", ...accountAccess, async (c) => {
  return c.json({ app: presentApp(await loadApp(c.env.DB, c.req.param("appId"))) });
});

appsRoutes.put("/apps/:appId", ...accountAccess, jsonBody(updateAppBody), async (c) => {
  const body = c.req.valid("json");
  const app = await loadApp(c.env.DB, c.req.param("appId"));
  const updated = { ...app, name: body.name ?? app.name, settings: { ...app.settings, ...body.settings } };
  await updateApp(c.env.DB, updated);
  forgetApp(app.id, app.appToken);
  return c.json({ app: presentApp(updated) });
});

appsRoutes.delete("/apps/:appId", ...accountAccess, async (c) => {
  const app = await loadApp(c.env.DB, c.req.param("appId"));
  // The keys go with the app (ON DELETE CASCADE); this isolate must stop trusting them at once too.
  const keys = await listAppKeys(c.env.DB, app.id);
  await deleteApp(c.env.DB, app.id);
  forgetApp(app.id, app.appToken);
  for (const key of keys) forgetKey(key.id);
  return c.json({});
});
