import { SignJWT } from "jose";
import { forgetKey } from "../auth/lookup";
import { deleteAppKey, findAppKey, insertAppKey, listAppKeys, type AppKey } from "../db/app-keys";
import { badRequest, notFound } from "../errors";
import { newId, newKeySecret } from "../lib/ids";
import { requireApp } from "./apps";

export const MAX_KEYS_PER_APP = 20;

export async function createKey(env: Env, appId: string, name: string): Promise<AppKey> {
  await requireApp(env, appId);
  const key = { id: newId(), appId, name, secret: newKeySecret(), createdAt: Date.now() };
  if (!(await insertAppKey(env.DB, key, MAX_KEYS_PER_APP))) {
    throw badRequest(`keys: an app has at most ${MAX_KEYS_PER_APP} keys`);
  }
  return key;
}

export async function appKeys(env: Env, appId: string): Promise<AppKey[]> {
  await requireApp(env, appId);
  return listAppKeys(env.DB, appId);
}

export async function getKey(env: Env, appId: string, keyId: string): Promise<AppKey> {
  const key = await findAppKey(env.DB, keyId);
  if (!key || key.appId !== appId) throw notFound(`keyId: no key '${keyId}' in app '${appId}'`);
  return key;
}

export async function removeKey(env: Env, appId: string, keyId: string): Promise<void> {
  const key = await getKey(env, appId, keyId);
  await deleteAppKey(env.DB, key.appId, key.id);
  forgetKey(key.id);
}

/** An app-scope JWT signed with the key, ready for the business's servers (no expiry, as Smooch's). */
export async function appJwt(env: Env, appId: string, keyId: string): Promise<string> {
  const key = await getKey(env, appId, keyId);
  return new SignJWT({ scope: "app" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT", kid: key.id })
    .setIssuedAt()
    .sign(new TextEncoder().encode(key.secret));
}
