import { z } from "zod";
import { ROLES } from "../enums";
import { flatObjectShape } from "../lib/schemas";

/** A message as the contract shows it; `received` is unix seconds with milliseconds. */
export const messageSchema = z
  .object({
    _id: z.string(),
    authorId: z.string(),
    role: z.enum(ROLES),
    name: z.string().optional(),
    text: z.string(),
    avatarUrl: z.string().optional(),
    mediaUrl: z.string().optional(),
    mediaType: z.string().optional(),
    metadata: flatObjectShape.optional(),
    received: z.number(),
  })
  .meta({ id: "Message", description: "One message of a conversation." });

/** Named so as not to shadow the Workers global `Message` (a queue message). */
export type ConversationMessage = z.output<typeof messageSchema>;

/** What the worker hands the conversation; it assigns `received`. */
export type NewMessage = Omit<ConversationMessage, "received">;

export const conversationSchema = z
  .object({
    _id: z.string(),
    appMakers: z.array(z.string()),
    appUsers: z.array(z.string()),
    messages: z.array(messageSchema),
  })
  .meta({ id: "Conversation", description: "An app user's conversation with the business, newest page of messages." });

/** The conversation object of the contract, around one page of its messages. */
export const presentConversation = (
  user: { id: string; conversationId: string },
  messages: ConversationMessage[],
): z.output<typeof conversationSchema> => ({
  _id: user.conversationId,
  appMakers: [],
  appUsers: [user.id],
  messages,
});
