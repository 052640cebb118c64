import { z } from "zod";
import { appUserSchema } from "./app-user";
import { messageSchema } from "../model/message";
import { CONVERSATION_STATUSES } from "../enums";

const entryUserSchema = appUserSchema
  .pick({ _id: true, userId: true, givenName: true, surname: true, email: true, properties: true })
  .extend({
    avatarUrl: z.string().optional().meta({ description: "The `avatarUrl` of the user's newest message, when it has one (an explicit one, or their email's gravatar)." }),
  })
  .meta({ id: "ConversationUser", description: "The app user a conversation is with, as the conversation list shows them." });

export const conversationEntrySchema = z
  .object({
    appUser: entryUserSchema,
    lastMessage: messageSchema.nullable(),
    lastActivity: z.number().nullable().meta({ description: "The newest message's `received`; the list's `before` takes it." }),
    businessUnreadCount: z.number().int().meta({ description: "appUser messages since the business last marked the conversation read." }),
    status: z.enum(CONVERSATION_STATUSES),
    assignee: z.object({ email: z.string(), name: z.string() }).nullable(),
  })
  .meta({ id: "ConversationEntry", description: "One conversation of the app's conversation list (the conversation index)." });

export const searchResultSchema = z
  .object({ appUser: entryUserSchema, message: messageSchema })
  .meta({ id: "SearchResult", description: "A message matching a search, with the app user whose conversation holds it." });
