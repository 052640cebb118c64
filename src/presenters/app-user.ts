import { z } from "zod";
import type { AppUser } from "../db/app-users";
import type { Device } from "../db/devices";
import { PLATFORMS } from "../enums";
import { flatObjectShape } from "../lib/schemas";
import { withoutNulls } from "./without-nulls";

export const appUserSchema = z
  .object({
    _id: z.string(),
    userId: z.string().optional(),
    givenName: z.string().optional(),
    surname: z.string().optional(),
    email: z.string().optional(),
    signedUpAt: z.string(),
    properties: flatObjectShape,
    conversationStarted: z.boolean(),
    credentialRequired: z.boolean(),
  })
  .meta({ id: "AppUser", description: "An end user of the app, with its profile and custom properties." });

export const deviceSchema = z
  .object({
    id: z.string(),
    platform: z.enum(PLATFORMS),
    appVersion: z.string().optional(),
    pushNotificationToken: z.string().optional(),
    info: flatObjectShape,
  })
  .meta({ id: "Device", description: "A device or browser an app user has used." });

export const presentAppUser = (user: AppUser): z.output<typeof appUserSchema> =>
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

export const presentDevice = (device: Device): z.output<typeof deviceSchema> =>
  withoutNulls({
    id: device.id,
    platform: device.platform,
    appVersion: device.appVersion,
    pushNotificationToken: device.pushNotificationToken,
    info: device.info,
  });

/**
 * A device as the business's own tools show it beside the user (the Desk's profile panel): what it
 * is, without its push token or its id (which, with the app token, resumes its anonymous user).
 */
export function presentDeviceProfile(device: Device) {
  const { id: _id, pushNotificationToken: _token, ...shown } = presentDevice(device);
  return shown;
}
