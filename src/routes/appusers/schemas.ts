import { z } from "zod";
import { flatObject, nonEmptyString, profileFields } from "../../lib/schemas";
import { platform, pushToken } from "../init/schemas";

export const updateAppUserBody = z.object(profileFields);

export const preCreateBody = z.object({
  userId: nonEmptyString(256),
  credentialRequired: z.boolean().default(false),
  ...profileFields,
});

/** smooch-core sends `appUser` with the event: attributes to update before tracking it. */
export const trackEventBody = z.object({
  name: nonEmptyString(256).meta({ examples: ["completed_sale"] }),
  appUser: z.object(profileFields).optional(),
});

export const updateDeviceBody = z.object({
  platform: platform.optional(),
  appVersion: z.string().max(256).optional(),
  pushNotificationToken: pushToken.optional(),
  info: flatObject.optional(),
});

export const pushTokenBody = z.object({
  deviceId: nonEmptyString(256),
  token: pushToken.pipe(nonEmptyString(4096)),
});
