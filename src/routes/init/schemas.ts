import { z } from "zod";
import { flatObject, nonEmptyString, profileFields } from "../../lib/schemas";

export const platform = z.enum(["ios", "android", "web", "other"]);

export const initBody = z.object({
  device: z.object({
    id: nonEmptyString(256),
    platform,
    pushNotificationToken: z.string().max(4096).optional(),
    appVersion: z.string().max(256).optional(),
    info: flatObject.optional(),
  }),
  userId: nonEmptyString(256).optional(),
  // SDKs that know the user's profile at start-up send it along; it updates the user additively.
  ...profileFields,
});

export type InitBody = z.output<typeof initBody>;
