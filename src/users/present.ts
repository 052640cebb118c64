import type { AppUser } from "../db/app-users";
import type { Device } from "../db/devices";

/** Drops the optional fields a user or device does not have, as the contract's examples do. */
const withoutNulls = <T extends Record<string, unknown>>(value: T) =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined));

export const presentAppUser = (user: AppUser) =>
  withoutNulls({
    _id: user.id,
    userId: user.userId,
    givenName: user.givenName,
    surname: user.surname,
    email: user.email,
    signedUpAt: user.signedUpAt,
    properties: user.properties,
    conversationStarted: user.conversationStarted,
    credentialRequired: user.credentialRequired,
  });

export const presentDevice = (device: Device) =>
  withoutNulls({
    id: device.id,
    platform: device.platform,
    appVersion: device.appVersion,
    pushNotificationToken: device.pushNotificationToken,
    info: device.info,
  });
