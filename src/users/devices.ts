import type { AppUser } from "../db/app-users";
import { protectedDeviceOfAnonymous, updateUserDevice, type Device, type DeviceChanges } from "../db/devices";
import { notFound } from "../errors";

/**
 * Updates one of the user's own devices; 404 for a device the user has never used. The
 * anonymous user an app token got on a device a protected user claimed (a logged-out web
 * messenger there) is answered as for its own device, with what it sent, while the device keeps
 * the protected user's fields: the answer shows none of them, and nothing is stored.
 */
export async function updateDevice(env: Env, user: AppUser, deviceId: string, changes: DeviceChanges): Promise<Device> {
  const device = await updateUserDevice(env.DB, user.appId, user.id, deviceId, changes);
  if (device) return device;
  const claimed = await protectedDeviceOfAnonymous(env.DB, user.appId, user.id, deviceId);
  if (!claimed) throw notFound(`deviceId: app user '${user.id}' has no device '${deviceId}'`);
  return {
    ...claimed,
    platform: changes.platform ?? claimed.platform,
    appVersion: changes.appVersion ?? null,
    pushNotificationToken: changes.pushNotificationToken ?? null,
    info: changes.info ?? {},
  };
}
