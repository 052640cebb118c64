import { z } from "zod";
import { flatObject, nonEmptyString } from "../../lib/schemas";

export const createAppBody = z.object({
  name: nonEmptyString(256),
  settings: flatObject.optional(),
});

export const updateAppBody = z.object({
  name: nonEmptyString(256).optional(),
  settings: flatObject.optional(),
});

export const createKeyBody = z.object({
  name: nonEmptyString(256),
});
