import { findAppUserByUserId, insertAppUser, type AppUser, type ProfileChanges } from "../db/app-users";
import { conflict } from "../errors";
import { newId } from "../lib/ids";

/** A new app user with the contract's defaults; the caller stores it. */
export function newAppUser(appId: string, fields: Partial<AppUser> = {}): AppUser {
  return {
    id: newId(),
    appId,
    userId: null,
    conversationId: newId(),
    givenName: null,
    surname: null,
    email: null,
    signedUpAt: new Date().toISOString(),
    properties: {},
    conversationStarted: false,
    credentialRequired: false,
    ...fields,
  };
}

/** The user with this userId, created if need be; concurrent calls all get the same one. */
export async function findOrCreateByUserId(db: D1Database, appId: string, userId: string): Promise<AppUser> {
  const existing = await findAppUserByUserId(db, appId, userId);
  if (existing) return existing;
  const created = newAppUser(appId, { userId });
  if (await insertAppUser(db, created)) return created;
  const winner = await findAppUserByUserId(db, appId, userId);
  if (!winner) throw new Error(`app user '${userId}' was neither inserted nor found`);
  return winner;
}

/** Pre-creates a user for a userId that no user has yet (409 otherwise). */
export async function preCreateUser(
  env: Env,
  appId: string,
  fields: ProfileChanges & { userId: string; credentialRequired: boolean },
): Promise<AppUser> {
  const { userId, credentialRequired, givenName, surname, email, signedUpAt, properties } = fields;
  const user = newAppUser(appId, {
    userId,
    credentialRequired,
    givenName: givenName ?? null,
    surname: surname ?? null,
    email: email ?? null,
    properties: properties ?? {},
    ...(signedUpAt && { signedUpAt }),
  });
  if (!(await insertAppUser(env.DB, user))) throw conflict(`userId: an app user '${userId}' already exists`);
  return user;
}
