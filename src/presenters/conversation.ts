import { z } from "zod";
import { jsonWithRaw } from "../lib/raw-json";
import { messageSchema } from "../model/message";

const conversationFields = {
  _id: z.string(),
  appMakers: z.array(z.string()),
  appUsers: z.array(z.string()),
  unreadCount: z.number().int().meta({ description: "The appMaker messages the app user has not read (see POST .../conversation/read)." }),
};

export const conversationSchema = z
  .object({ ...conversationFields, messages: z.array(messageSchema) })
  .meta({ id: "Conversation", description: "An app user's conversation with the business, newest page of messages." });

export const conversationSummarySchema = z
  .object(conversationFields)
  .meta({ id: "ConversationSummary", description: "An app user's conversation, without its messages." });

type ConversationOwner = { id: string; conversationId: string };

/** The conversation object of the contract, without messages. */
export const presentConversationSummary = (user: ConversationOwner, unreadCount: number): z.output<typeof conversationSummarySchema> => ({
  _id: user.conversationId,
  appMakers: [],
  appUsers: [user.id],
  unreadCount,
});

/**
 * The conversation object of the contract around one page of its messages (conversationSchema),
 * as JSON text: the page's messages are JSON already (src/conversation/page.ts).
 */
export const conversationJson = (user: ConversationOwner, page: { messagesJson: string; unreadCount: number }): string =>
  jsonWithRaw(presentConversationSummary(user, page.unreadCount), { messages: page.messagesJson });
