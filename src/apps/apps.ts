import { forgetApp } from "../auth/lookup";
import { findApp, insertApp, listApps, setAppToken, updateApp, type App } from "../db/apps";
import { notFound } from "../errors";
import { newId, newToken } from "../lib/ids";
import type { FlatObject } from "../lib/schemas";

const newAppToken = () => newToken(25);

export async function createApp(env: Env, input: { name: string; settings?: FlatObject }): Promise<App> {
  const app = { id: newId(), name: input.name, appToken: newAppToken(), settings: input.settings ?? {}, createdAt: Date.now() };
  await insertApp(env.DB, app);
  return app;
}

export const pageOfApps = (env: Env, page: { limit: number; offset: number }) => listApps(env.DB, page.limit, page.offset);

/** The app, read from D1 (an operator expects to see its latest settings). */
export async function getApp(env: Env, appId: string): Promise<App> {
  const app = await findApp(env.DB, appId);
  if (!app) throw notFound(`appId: no app '${appId}'`);
  return app;
}

/** That the app exists, read from D1: a deleted app's keys are out of reach in every isolate at once. */
export async function requireApp(env: Env, appId: string): Promise<void> {
  await getApp(env, appId);
}

/** Renames the app and merges its settings (additively, like profile properties). */
export async function changeApp(env: Env, appId: string, changes: { name?: string; settings?: FlatObject }): Promise<App> {
  const app = await getApp(env, appId);
  const updated = { ...app, name: changes.name ?? app.name, settings: { ...app.settings, ...changes.settings } };
  await updateApp(env.DB, updated);
  forgetApp(app.id, app.appToken);
  return updated;
}

/** A new app token: the old one stops working here at once, in other isolates within their cache period. */
export async function rotateAppToken(env: Env, appId: string): Promise<App> {
  const app = await getApp(env, appId);
  const rotated = { ...app, appToken: newAppToken() };
  await setAppToken(env.DB, app.id, rotated.appToken);
  forgetApp(app.id, app.appToken);
  return rotated;
}
