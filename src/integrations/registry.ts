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
import { newTokenKey, newVapidKeys, signingKey } from "./keys";

/** A service account key file as Google issues it: the fields Parley reads. */
export interface ServiceAccount {
  project_id: string;
  private_key_id?: string;
  private_key: string;
  client_email: string;
}

export type IntegrationInput =
  | { type: "fcm"; serviceAccount: ServiceAccount; senderId?: string }
  | { type: "apn"; keyId: string; teamId: string; bundleId: string; key: string; production: boolean }
  | { type: "webpush" }
  | { type: "email"; to: string[]; fromName?: string };

type Configured = Pick<Integration, "type" | "public" | "secret">;

/** What the input configures, its keys checked (or, for webpush, generated). */
async function configuredOf(input: IntegrationInput): Promise<Configured> {
  switch (input.type) {
    case "fcm": {
      const account = input.serviceAccount;
      await signingKey(account.private_key, "RS256", "serviceAccount.private_key");
      return {
        type: "fcm",
        public: { projectId: account.project_id, clientEmail: account.client_email, senderId: input.senderId ?? null },
        secret: { privateKeyId: account.private_key_id ?? null, privateKey: account.private_key },
      };
    }
    case "apn": {
      await signingKey(input.key, "ES256", "key");
      const { keyId, teamId, bundleId, production } = input;
      return { type: "apn", public: { keyId, teamId, bundleId, production }, secret: { key: input.key } };
    }
    case "webpush": {
      const keys = await newVapidKeys();
      return { type: "webpush", public: { vapidPublicKey: keys.publicKey }, secret: { vapidPrivateKey: keys.privateKey } };
    }
    case "email":
      return { type: "email", public: { to: input.to, fromName: input.fromName ?? null }, secret: { tokenKey: newTokenKey() } };
  }
}

export async function createIntegration(env: Env, appId: string, input: IntegrationInput): Promise<Integration> {
  await requireApp(env, appId);
  const integration = { id: newId(), appId, createdAt: Date.now(), ...(await configuredOf(input)) } as Integration;
  if (!(await insertIntegration(env.DB, integration))) {
    throw conflict(`type: the app already has a ${input.type} integration; delete it first`);
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
