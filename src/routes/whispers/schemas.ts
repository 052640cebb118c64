import { z } from "zod";
import { nonEmptyString } from "../../lib/schemas";

export const createWhisperBody = z.object({
  event: nonEmptyString(256),
  text: nonEmptyString(8192),
  name: z.string().max(256).optional(),
  avatarUrl: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
});
