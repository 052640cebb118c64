import { markConversationStarted, type AppUser } from "../db/app-users";
import type { Message, MessagePage, NewMessage } from "./message";
import { conversationStub } from "./stub";

/**
 * Appends messages to the user's conversation: one Durable Object call, plus the one-time
 * `conversationStarted` flip in D1 for the user's first message.
 */
export async function postMessages(
  env: Env,
  user: AppUser,
  messages: NewMessage[],
): Promise<{ appended: Message[]; page: MessagePage }> {
  const result = await conversationStub(env, user.conversationId).append(messages);
  if (!user.conversationStarted) await markConversationStarted(env.DB, user.id);
  return result;
}

/** The conversation object of the contract, around one page of its messages. */
export const presentConversation = (user: AppUser, messages: Message[]) => ({
  _id: user.conversationId,
  appMakers: [],
  appUsers: [user.id],
  messages,
});
