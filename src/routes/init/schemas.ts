import { z } from "zod";
import { PLATFORMS } from "../../enums";
import { flatObject, nonEmptyString, profileFields } from "../../lib/schemas";

export const platform = z.enum(PLATFORMS);

export const initBody = z.object({
  device: z.object({
    id: nonEmptyString(256),
    platform,
    pushNotificationToken: z.string().max(4096).optional(),
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
