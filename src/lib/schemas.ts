import { z } from "zod";

export const FLAT_OBJECT_MAX_BYTES = 4096;

const flatKey = z.string();
const flatValue = z.union([z.string(), z.number(), z.boolean()]);

/** How a flat object reads in a response. */
export const flatObjectShape = z.record(flatKey, flatValue);

/**
 * A flat JSON object of strings, numbers and booleans, at most 4 KB serialised: the shape of
 * app user `properties`, message `metadata` and device `info`. Rebuilt with Object.fromEntries
 * so that keys such as `__proto__` stay plain data.
 */
export const flatObject = z
  .record(flatKey, flatValue, { error: "must be a flat object of strings, numbers and booleans" })
  .transform((value) => Object.fromEntries(Object.entries(value)) as Record<string, string | number | boolean>)
  .refine((value) => new TextEncoder().encode(JSON.stringify(value)).length <= FLAT_OBJECT_MAX_BYTES, {
    message: `must be at most ${FLAT_OBJECT_MAX_BYTES} bytes as JSON`,
  });

export type FlatObject = z.output<typeof flatObject>;

/** ISO 8601 with a time, normalised to `YYYY-MM-DDThh:mm:ss.sssZ`. */
export const isoDateTime = z.iso
  .datetime({ offset: true, error: "must be an ISO 8601 date-time (YYYY-MM-DDThh:mm:ss.sssZ)" })
  .transform((value) => new Date(value).toISOString());

export const nonEmptyString = (max: number) => z.string().trim().min(1, "must not be empty").max(max);

/** The profile fields shared by pre-create, update and the event's `appUser`. */
export const profileFields = {
  givenName: z.string().max(256).optional(),
  surname: z.string().max(256).optional(),
  email: z.string().max(512).optional(),
  signedUpAt: isoDateTime.optional(),
  properties: flatObject.optional(),
};

export const pagination = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  offset: z.coerce.number().int().min(0).default(0),
});
