import { z } from "zod";
import { ACTIVITY_TYPES, ROLES } from "../../enums";
import { flatObject, nonEmptyString } from "../../lib/schemas";
import { actionsInput, payload } from "./actions";

export const role = z.enum(ROLES);

/** The message fields shared by the JSON and the image form; `text` rules differ. */
export const messageFields = {
  role,
  name: z.string().max(256).optional(),
  email: z.string().max(512).optional(),
  avatarUrl: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
  metadata: flatObject.optional(),
  deviceId: nonEmptyString(256)
    .optional()
    .meta({ description: "The sending device's id, named by the message's `source` (the web messenger sends it)." }),
};

/** What the web messengers send along to match a sent message with its response: any value, never stored. */
const clientField = z.unknown().optional().meta({ description: "Sent by the Smooch web messengers; accepted and ignored." });

export const postMessageBody = z
  .object({
    ...messageFields,
    text: z.string().max(8192).optional(),
    mediaUrl: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
    mediaType: z.string().min(1).max(256).optional(),
    payload: payload.optional().meta({ description: "The payload of the quick reply (reply action) the app user answered with." }),
    actions: actionsInput.optional(),
    _clientId: clientField,
    _clientSent: clientField,
  })
  .superRefine((message, ctx) => {
    if (message.role !== "appMaker" && message.actions?.length) {
      ctx.addIssue({ code: "custom", path: ["actions"], message: "only appMaker messages may carry actions" });
    }
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

export const readBody = z.object({
  role: role
    .default("appUser")
    .meta({ description: "The side that read: `appUser` (the default, any credential of the user) or `appMaker` (app scope)." }),
});

export const postbackBody = z.object({
  actionId: nonEmptyString(256).meta({ description: "The `_id` of a postback action of an appMaker message of this conversation." }),
});

export const activityBody = z.object({
  role: role.meta({
    description: "`appMaker`: the business (app scope), shown in the user's web messenger; `appUser`: the user (any credential of theirs), shown in the app's open Desks.",
  }),
  type: z.enum(ACTIVITY_TYPES),
  name: z.string().max(256).optional().meta({ description: "Shown as who is typing; the app's name by default." }),
  avatarUrl: z
    .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
    .optional()
    .meta({ description: "Shown beside the indicator; the app's `iconUrl` setting by default." }),
});
