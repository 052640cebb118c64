import { forgetAppUsers } from "../auth/app-users";
import { conversationStub } from "../conversation/stub";
import { mergeStatements, type AppUser } from "../db/app-users";
import { foldIndexedStatements } from "../db/conversation-index";
import { moveLinksStatements } from "../db/device-users";
import { releaseAnonymousStatement } from "../db/devices";

/**
 * Merges an anonymous user into the identified user who just signed in on its device.
 * The old conversation hands its messages over (forwarding any later append to the survivor),
 * they are absorbed idempotently, D1 records the merge in one transaction (the conversation index
 * folding the merged user's entry and messages into the survivor's), and the old
 * conversation is emptied: a crash at any step leaves nothing lost, and the next init that
 * finds the same pair repeats the remaining steps.
 */
export async function mergeAppUsers(env: Env, anonymous: AppUser, survivor: AppUser): Promise<void> {
  const from = conversationStub(env, anonymous.conversationId);
  const messages = await from.handOver({
    conversationId: survivor.conversationId,
    fromAuthorId: anonymous.id,
    toAuthorId: survivor.id,
  });
  if (messages.length > 0) {
    await conversationStub(env, survivor.conversationId).absorb(messages, anonymous.id, survivor.id);
  }
  await env.DB.batch([
    ...mergeStatements(env.DB, { ...anonymous, conversationStarted: anonymous.conversationStarted || messages.length > 0 }, survivor.id),
    ...moveLinksStatements(env.DB, anonymous.id, survivor.id),
    ...foldIndexedStatements(env.DB, anonymous.id, survivor.id),
    releaseAnonymousStatement(env.DB, anonymous.appId, anonymous.id),
  ]);
  forgetAppUsers([anonymous.id, survivor.id]);
  if (messages.length > 0) await from.clear();
}
