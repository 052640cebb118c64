import { z } from "zod";
import { ErrorCode } from "../errors";

/** The one shape every error response has. */
export const errorSchema = z
  .object({
    error: z.object({
      code: z.enum(ErrorCode),
      description: z.string().meta({ description: "Names the offending field or header first, e.g. `device.platform: ...`." }),
    }),
  })
  .meta({ id: "Error", description: "Every error Parley answers with." });
