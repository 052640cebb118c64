import type { Credential } from "../../auth/credential";
import { deleteAppUser, insertAppUser, resolveAppUser, type AppUser } from "../../db/app-users";
import { linkStatement } from "../../db/device-users";
import { claimAnonymousUser, findDevice, setActiveUserStatement, upsertDevice, type Device } from "../../db/devices";
import { forbidden, unauthorized } from "../../errors";
import { findOrCreateByUserId, newAppUser } from "../../users/create";
import { mergeAppUsers } from "../../users/merge";
import type { InitBody } from "./schemas";

function userIdFor(credential: Credential, body: InitBody): string | undefined {
  if (credential.kind === "jwt" && credential.scope === "appUser") {
    if (body.userId !== undefined && body.userId !== credential.userId) {
      throw forbidden("userId: does not match the userId of the JWT");
    }
    return credential.userId;
  }
  return body.userId;
}

/** The device's anonymous user: the one it already has, or one created and claimed now. */
async function anonymousUserOf(db: D1Database, device: Device): Promise<AppUser> {
  if (device.anonymousAppUserId) {
    const existing = await resolveAppUser(db, device.appId, device.anonymousAppUserId);
    if (existing) return existing;
  }
  const created = newAppUser(device.appId);
  await insertAppUser(db, created);
  if (await claimAnonymousUser(db, device.appId, device.id, created.id)) return created;
  // Another init on the same device claimed the slot first: use its user, drop ours.
  await deleteAppUser(db, created.id);
  return anonymousUserOf(db, (await findDevice(db, device.appId, device.id)) ?? device);
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

/** POST /v1/init: registers the device and returns the user now active on it. */
export async function initialize(env: Env, appId: string, credential: Credential, body: InitBody): Promise<AppUser> {
  // Every refusal comes before the device is written: a refused init changes nothing.
  const userId = userIdFor(credential, body);
  const identified = userId === undefined ? undefined : await findOrCreateByUserId(env.DB, appId, userId);
  if (identified && credential.kind === "appToken" && identified.credentialRequired) {
    throw unauthorized("credentials: this app user requires a JWT credential");
  }
  const { id: deviceId, ...deviceFields } = body.device;
  const device = await upsertDevice(env.DB, appId, deviceId, deviceFields);
  const user = identified ? await mergeActiveAnonymous(env, device, identified) : await anonymousUserOf(env.DB, device);
  await env.DB.batch([
    linkStatement(env.DB, appId, deviceId, user.id),
    setActiveUserStatement(env.DB, appId, deviceId, user.id),
  ]);
  return user;
}
