import type { AppUser } from "../db/app-users";
import { updateUserDevice, type Device, type DeviceChanges } from "../db/devices";
import { notFound } from "../errors";

/** Updates one of the user's own devices; 404 for a device the user has never used. */
export async function updateDevice(env: Env, user: AppUser, deviceId: string, changes: DeviceChanges): Promise<Device> {
  const device = await updateUserDevice(env.DB, user.appId, user.id, deviceId, changes);
  if (!device) throw notFound(`deviceId: app user '${user.id}' has no device '${deviceId}'`);
  return device;
}
