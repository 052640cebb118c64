import { forgetAppUsers } from "../auth/app-users";
import { conversationStub } from "../conversation/stub";
import { eraseProfileStatement, findAppUser, userAndMergedRows, type AppUser } from "../db/app-users";
import { redactIndexedAuthorsStatements } from "../db/conversation-index";
import { eraseDeviceDetailsStatement } from "../db/devices";
import { announceChanges } from "../desk-live/announce";
import { conflict } from "../errors";

/**
 * Erases what the profile says about the person: names, email, custom properties, and the
 * push tokens and reported info of their devices, also on the rows merged into the user; the
 * names, emails and avatars their messages were signed with go too, in the conversation and in the
 * conversation index's copies. `_id`, `userId` and the conversation stay. The app's open Desks
 * hear of it, as of any change to what their list shows.
 */
export async function eraseProfile(env: Env, user: AppUser): Promise<AppUser> {
  const ids = (await userAndMergedRows(env.DB, user.id)).map((row) => row.id);
  await env.DB.batch([
    eraseProfileStatement(env.DB, ids),
    eraseDeviceDetailsStatement(env.DB, user.appId, ids),
    ...redactIndexedAuthorsStatements(env.DB, ids),
  ]);
  forgetAppUsers(ids);
  await conversationStub(env, user.conversationId).redactAuthors(ids);
  const erased = await findAppUser(env.DB, user.id);
  if (!erased) throw conflict("appUserId: the app user was deleted while this request ran");
  await announceChanges(env, user.appId, [user.id]);
  return erased;
}
