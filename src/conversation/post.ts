import { markConversationStarted, type AppUser } from "../db/app-users";
import { presentAppUser } from "../users/present";
import { appWebhooks } from "../webhooks/cache";
import type { Message, MessagePage, NewMessage } from "./message";
import { conversationStub } from "./stub";

/**
 * Appends messages to the user's conversation, with their webhook deliveries: one Durable
 * Object call, the app's webhook list from the isolate cache, and the one-time
 * `conversationStarted` flip in D1 for the user's first message.
 */
export async function postMessages(
  env: Env,
  user: AppUser,
  messages: NewMessage[],
): Promise<{ appended: Message[]; page: MessagePage }> {
  const webhooks = await appWebhooks(env, user.appId);
  const fanout =
    webhooks.length > 0
      ? { webhooks: webhooks.map(({ id, triggers }) => ({ id, triggers })), appUser: presentAppUser({ ...user, conversationStarted: true }) }
      : undefined;
  const result = await conversationStub(env, user.conversationId).append(messages, fanout);
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
