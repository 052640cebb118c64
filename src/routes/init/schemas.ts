import { z } from "zod";
import { PLATFORMS } from "../../enums";
import { isInsecureSubscription } from "../../channels/push/webpush";
import { flatObject, nonEmptyString, profileFields } from "../../lib/schemas";

export const platform = z.enum(PLATFORMS);

/** A device's push token; a Web Push subscription's must name an `https:` endpoint. */
export const pushToken = z
  .string()
  .max(4096)
  .refine((token) => !isInsecureSubscription(token), "a Web Push subscription's endpoint must be an https: URL (RFC 8030)");

export const initBody = z.object({
  device: z.object({
    id: nonEmptyString(256),
    platform,
    pushNotificationToken: pushToken.optional(),
    appVersion: z.string().max(256).optional(),
    info: flatObject.optional(),
  }),
  // Both Smooch web messengers send `userId: ""` for anonymous visitors: empty means absent.
  userId: z
    .string()
    .trim()
    .max(256)
    .optional()
    .transform((userId) => userId || undefined),
  // SDKs that know the user's profile at start-up send it along; it updates the user additively.
  ...profileFields,
});
