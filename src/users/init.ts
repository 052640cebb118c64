import type { Credential } from "../auth/credential";
import { cachedApp } from "../auth/lookup";
import type { App } from "../db/apps";
import {
  anonymousUserOfDeviceStatement,
  insertAnonymousCandidateStatement,
  readAppUser,
  resolveAppUser,
  type AppUser,
  type ProfileChanges,
} from "../db/app-users";
import { whileAppExists } from "../db/constraints";
import type { Integration } from "../db/integrations";
import { linkAnonymousStatement, linkStatement } from "../db/device-users";
import {
  claimAnonymousStatement,
  setActiveUserStatement,
  deviceStatement,
  readWrittenDevice,
  upsertDeviceStatement,
  type Device,
  type DeviceChanges,
} from "../db/devices";
import type { Platform } from "../enums";
import { forbidden, unauthorized } from "../errors";
import { appIntegrations } from "../integrations/cache";
import { settledTogether } from "../lib/settled";
import { findOrCreateByUserId, newAppUser } from "./create";
import { mergeAppUsers } from "./merge";
import { updateUser } from "./update";

/** What a device says about itself and who signs in on it. */
export interface SignIn {
  device: DeviceChanges & { id: string; platform: Platform };
  userId?: string;
}

function userIdFor(credential: Credential, body: SignIn): string | undefined {
  if (credential.kind === "jwt" && credential.scope === "appUser") {
    if (body.userId !== undefined && body.userId !== credential.userId) {
      throw forbidden("userId: does not match the userId of the JWT");
    }
    return credential.userId;
  }
  return body.userId;
}

/**
 * Writes the device and returns its anonymous user, linked and made active: the one it already
 * has, or one created now. One D1 transaction, so concurrent inits on one device all get the
 * same user: the candidate is written only when the device has no anonymous user, and takes the
 * empty slot. On a protected device the anonymous user is neither linked nor made active: it
 * shares nothing with the device's users and is never merged into them.
 */
async function signInAnonymously(db: D1Database, appId: string, deviceId: string, deviceWrite: D1PreparedStatement): Promise<AppUser> {
  const candidate = newAppUser(appId);
  const results = await whileAppExists(
    db.batch([
      deviceWrite,
      insertAnonymousCandidateStatement(db, candidate, deviceId),
      claimAnonymousStatement(db, appId, deviceId, candidate.id),
      linkAnonymousStatement(db, appId, deviceId),
      anonymousUserOfDeviceStatement(db, appId, deviceId),
    ]),
  );
  const user = readAppUser(results[results.length - 1]);
  if (!user) throw new Error(`device ${deviceId} has no anonymous user after claiming one`);
  return user;
}

/** Merges the device's active anonymous user into `user` when it signs in there. */
async function mergeActiveAnonymous(env: Env, device: Device, user: AppUser): Promise<AppUser> {
  if (!device.activeAppUserId || device.activeAppUserId === user.id) return user;
  const active = await resolveAppUser(env.DB, device.appId, device.activeAppUserId);
  // Already merged (it resolves elsewhere) or identified: a shared device, nothing to merge.
  if (!active || active.id !== device.activeAppUserId || active.userId !== null) return user;
  await mergeAppUsers(env, active, user);
  return (await resolveAppUser(env.DB, user.appId, user.id)) ?? user;
}

/** Registers the device and returns the user now active on it. */
async function signIn(env: Env, appId: string, credential: Credential, body: SignIn): Promise<AppUser> {
  // Every refusal comes before the device is written: a refused init changes nothing.
  const userId = userIdFor(credential, body);
  const identified = userId === undefined ? undefined : await findOrCreateByUserId(env.DB, appId, userId);
  if (identified && credential.kind === "appToken" && identified.credentialRequired) {
    throw unauthorized("credentials: this app user requires a JWT credential");
  }
  const { id: deviceId, ...deviceFields } = body.device;
  // An app token is anyone who read the web page: it may not change a device a protected user
  // has claimed (its push token, its users), nor sign in there a user merged into that one.
  const trusted = credential.kind === "jwt";
  const protects = identified?.credentialRequired === true;
  const deviceWrite = upsertDeviceStatement(env.DB, appId, deviceId, deviceFields, { trusted, protects });
  if (!identified) return signInAnonymously(env.DB, appId, deviceId, deviceWrite);
  const [, written] = await whileAppExists(env.DB.batch([deviceWrite, deviceStatement(env.DB, appId, deviceId)]));
  const device = readWrittenDevice(deviceId, written);
  if (!trusted && device.protectedAt !== null) return identified;
  const user = await mergeActiveAnonymous(env, device, identified);
  await env.DB.batch([
    linkStatement(env.DB, appId, deviceId, user.id),
    setActiveUserStatement(env.DB, appId, deviceId, user.id),
  ]);
  return user;
}

/**
 * POST /v1/init: signs the device in, applies the profile fields SDKs send along with it
 * (additively), and returns the user with the app as a device sees it.
 */
export async function initialize(
  env: Env,
  appId: string,
  credential: Credential,
  body: SignIn & ProfileChanges,
): Promise<{ app: App | null; integrations: Integration[]; user: AppUser }> {
  const { givenName, surname, email, signedUpAt, properties, ...device } = body;
  // Both settle before the request ends, even when the sign-in is refused: the app's lookup is
  // shared through the isolate cache, and a load left running by an ended request never settles
  // for the requests waiting on it.
  const [signedIn, [app, integrations]] = await settledTogether(
    signIn(env, appId, credential, device),
    settledTogether(cachedApp(env, appId), appIntegrations(env, appId)),
  );
  const user = await updateUser(env, signedIn, { givenName, surname, email, signedUpAt, properties });
  return { app, integrations, user };
}
