import { requireApp } from "../apps/apps";
import {
  deleteIntegration,
  findIntegration,
  insertIntegration,
  listIntegrations,
  type Integration,
} from "../db/integrations";
import type { IntegrationType } from "../enums";
import { conflict, notFound } from "../errors";
import { newId } from "../lib/ids";
import { forgetIntegrations } from "./cache";
import type { Configured } from "./kind";

/** Creates an integration of the app; `configure` is its type's setup (src/channels/integrations.ts), run once the app is known. */
export async function createIntegration(env: Env, appId: string, configure: () => Promise<Configured>): Promise<Integration> {
  await requireApp(env, appId);
  const configured = await configure();
  const integration = { id: newId(), appId, createdAt: Date.now(), ...configured } as Integration;
  if (!(await insertIntegration(env.DB, integration))) {
    throw conflict(`type: the app already has a ${configured.type} integration; delete it first`);
  }
  forgetIntegrations(appId);
  return integration;
}

/** The app's integrations, read from D1 (an operator expects to see a change at once); `types` filters them. */
export async function appIntegrationList(env: Env, appId: string, types?: IntegrationType[]): Promise<Integration[]> {
  await requireApp(env, appId);
  const all = await listIntegrations(env.DB, appId);
  return types ? all.filter((integration) => types.includes(integration.type)) : all;
}

export async function getIntegration(env: Env, appId: string, id: string): Promise<Integration> {
  const integration = await findIntegration(env.DB, appId, id);
  if (!integration) throw notFound(`integrationId: no integration '${id}'`);
  return integration;
}

export async function removeIntegration(env: Env, appId: string, id: string): Promise<void> {
  const integration = await getIntegration(env, appId, id);
  await deleteIntegration(env.DB, integration.id);
  forgetIntegrations(appId);
}
