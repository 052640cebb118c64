import { z } from "zod";
import { ROLES } from "../../enums";
import { flatObject } from "../../lib/schemas";

export const role = z.enum(ROLES);

/** The message fields shared by the JSON and the image form; `text` rules differ. */
export const messageFields = {
  role,
  name: z.string().max(256).optional(),
  email: z.string().max(512).optional(),
  avatarUrl: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
  metadata: flatObject.optional(),
};

export const postMessageBody = z
  .object({
    ...messageFields,
    text: z.string().max(8192).optional(),
    mediaUrl: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
    mediaType: z.string().min(1).max(256).optional(),
  })
  .superRefine((message, ctx) => {
    if (message.mediaUrl !== undefined && message.mediaType === undefined) {
      ctx.addIssue({ code: "custom", path: ["mediaType"], message: "is required when mediaUrl is given" });
    }
    const hasMedia = message.mediaUrl !== undefined && message.mediaType !== undefined;
    if (!hasMedia && (message.text === undefined || message.text.trim() === "")) {
      ctx.addIssue({ code: "custom", path: ["text"], message: "is required unless mediaUrl and mediaType are given" });
    }
  });

const timestamp = z.coerce.number({ error: "must be a unix timestamp in seconds" }).finite().nonnegative();

export const messagesQuery = z
  .object({ before: timestamp.optional(), after: timestamp.optional() })
  .refine((query) => query.before === undefined || query.after === undefined, {
    message: "give either before or after, not both",
    path: ["before"],
  });
