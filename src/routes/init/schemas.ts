import { z } from "zod";
import { flatObject, nonEmptyString } from "../../lib/schemas";

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
});

export type InitBody = z.output<typeof initBody>;
