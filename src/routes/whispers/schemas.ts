import { z } from "zod";
import { nonEmptyString } from "../../lib/schemas";

export const createWhisperBody = z.object({
  event: nonEmptyString(256).meta({ examples: ["completed_sale"] }),
  text: nonEmptyString(8192).meta({ examples: ["Thanks for your order! Any questions?"] }),
  name: z.string().max(256).optional(),
  avatarUrl: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
});
