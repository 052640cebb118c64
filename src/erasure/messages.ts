import { conversationStub } from "../conversation/stub";
import { userAndMergedRows, type AppUser } from "../db/app-users";
import { announceChanges, announceErased } from "../desk-live/announce";
import { notFound } from "../errors";
import { tombstone } from "./tombstones";

/** Whose uploads an erased message's image may be: the user's and those of the users merged into it. */
const uploaders = async (env: Env, user: AppUser) => (await userAndMergedRows(env.DB, user.id)).map((row) => row.id);

/**
 * Erases every message of the user's conversation, with their images and webhook jobs; the
 * conversation then reads empty, and later messages still get later `received` times.
 */
export async function eraseMessages(env: Env, user: AppUser): Promise<void> {
  await tombstone(env, await conversationStub(env, user.conversationId).eraseMessages(user.appId, await uploaders(env, user)));
  await announceChanges(env, user.appId, [user.id]);
}

/** Erases one message of the user's conversation (404 when it has none with that `_id`). */
export async function eraseMessage(env: Env, user: AppUser, messageId: string): Promise<void> {
  const erased = await conversationStub(env, user.conversationId).eraseMessage(user.appId, await uploaders(env, user), messageId);
  if (erased === null) throw notFound(`messageId: no message '${messageId}' in this conversation`);
  await tombstone(env, erased);
  await announceErased(env, user, messageId);
}
