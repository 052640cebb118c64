import { z } from "zod";
import { nonEmptyString } from "../../lib/schemas";

export const createAgentBody = z.object({
  email: z.email().max(254),
  name: nonEmptyString(256).optional(),
});
