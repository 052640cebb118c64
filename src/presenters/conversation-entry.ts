import { z } from "zod";
import type { IndexedConversation, IndexedUser, SearchHit } from "../db/conversation-index";
import { appUserSchema } from "./app-user";
import { messageSchema, type ConversationMessage } from "../model/message";
import { withoutNulls } from "./without-nulls";
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

const presentUser = (row: IndexedUser) =>
  withoutNulls({
    _id: row.appUserId,
    userId: row.userId,
    givenName: row.givenName,
    surname: row.surname,
    email: row.email,
    avatarUrl: row.avatarUrl,
    properties: row.properties,
  });

export const presentEntry = (row: IndexedConversation): z.output<typeof conversationEntrySchema> => ({
  appUser: presentUser(row),
  lastMessage: row.lastMessage === null ? null : (JSON.parse(row.lastMessage) as ConversationMessage),
  lastActivity: row.lastActivity,
  businessUnreadCount: row.businessUnreadCount,
  status: row.status,
  // An assignee removed as an agent keeps the assignment, shown by address.
  assignee: row.assignee === null ? null : { email: row.assignee, name: row.assigneeName ?? row.assignee },
});

export const presentHit = (hit: SearchHit): z.output<typeof searchResultSchema> => ({
  appUser: presentUser(hit),
  message: JSON.parse(hit.message) as ConversationMessage,
});
