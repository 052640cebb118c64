import { forgetAppUsers } from "../auth/app-users";
import type { Credential } from "../auth/credential";
import { markConversationStarted, type AppUser } from "../db/app-users";
import { userDevicePlatform } from "../db/devices";
import { API_SOURCE, type ConversationMessage, type MessageSource, type NewMessage } from "../model/message";
import { CHANNELS } from "../channels/registry";
import { destinationsFor } from "../delivery/destinations";
import { composeMessage, type MessageInput } from "./compose";
import { whenErased } from "./erased";
import type { MessagePage } from "./page";
import { assertMayActAs } from "./role";
import { conversationStub } from "./stub";

/**
 * Appends messages to the user's conversation, with their deliveries (webhooks, and the pushes
 * of appMaker messages to the user's devices): one Durable Object call, each channel's
 * destinations from the isolate cache, and the one-time `conversationStarted` flip in D1 for
 * the user's first message.
 */
export async function postMessages(
  env: Env,
  user: AppUser,
  messages: NewMessage[],
): Promise<{ appended: ConversationMessage[]; page: MessagePage }> {
  const roles = [...new Set(messages.map((message) => message.role))];
  const destinations = await destinationsFor(env, CHANNELS, user, { kind: "messages", roles });
  const result = await conversationStub(env, user.conversationId)
    .append(messages, destinations)
    .catch(whenErased(user));
  if (!user.conversationStarted) {
    await markConversationStarted(env.DB, user.id);
    forgetAppUsers([user.id]);
  }
  return result;
}

/**
 * Where a message comes from. A message posted with the sending device's id names it (the web
 * messenger skips its own messages by it) with the device's platform; only then is D1 read.
 */
async function messageSource(env: Env, user: AppUser, deviceId: string | undefined): Promise<MessageSource> {
  if (deviceId === undefined) return API_SOURCE;
  return { type: (await userDevicePlatform(env.DB, user.appId, user.id, deviceId)) ?? "api", id: deviceId };
}

/** Posts one message on behalf of the caller: the JSON and the image routes both end here. */
export async function postMessage(env: Env, credential: Credential, user: AppUser, input: MessageInput) {
  assertMayActAs(credential, input.role, "posting");
  const message = await composeMessage(user, input, await messageSource(env, user, input.deviceId));
  const { appended, page } = await postMessages(env, user, [message]);
  return { message: appended[0], page };
}
