import { conversationStub } from "../conversation/stub";
import type { AppUser } from "../db/app-users";
import { notFound } from "../errors";
import { tombstone } from "./tombstones";

/**
 * Erases every message of the user's conversation, with their images and webhook jobs; the
 * conversation then reads empty, and later messages still get later `received` times.
 */
export async function eraseMessages(env: Env, user: AppUser): Promise<void> {
  await tombstone(env, await conversationStub(env, user.conversationId).eraseMessages(user.appId));
}

/** Erases one message of the user's conversation (404 when it has none with that `_id`). */
export async function eraseMessage(env: Env, user: AppUser, messageId: string): Promise<void> {
  const erased = await conversationStub(env, user.conversationId).eraseMessage(user.appId, messageId);
  if (erased === null) throw notFound(`messageId: no message '${messageId}' in this conversation`);
  await tombstone(env, erased);
}
