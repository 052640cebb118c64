import { forgetAppUsers } from "../auth/app-users";
import { conversationStub } from "../conversation/stub";
import { deleteUsersStatement, userAndMergedRows } from "../db/app-users";
import { forgetUsersDevicesStatements } from "../db/devices";
import { announceChanges } from "../desk-live/announce";

/** A user's rows to delete: its own and those merged into it, each with its conversation. */
export interface UserRows {
  appId: string;
  /** The whole app goes: every upload to it may be erased, whichever of its users made it. */
  wholeApp?: boolean;
  rows: Array<{ id: string; conversationId: string }>;
}

/**
 * Erases the conversations first (messages, images these users uploaded, outbox, tombstones for
 * the jobs already queued, subscribers; an erased one refuses any later append), then the D1
 * rows: a crash in between leaves the user findable, and deleting it again finishes the job.
 */
export async function eraseRows(env: Env, { appId, rows, wholeApp }: UserRows): Promise<void> {
  const ids = rows.map((row) => row.id);
  await Promise.all(rows.map((row) => conversationStub(env, row.conversationId).erase(appId, wholeApp ? "app" : ids)));
  await env.DB.batch([...forgetUsersDevicesStatements(env.DB, appId, ids), deleteUsersStatement(env.DB, appId, ids)]);
  forgetAppUsers(ids);
  await announceChanges(env, appId, ids);
}

/**
 * Deletes the user everywhere, with the users merged into it (whose `_id`s resolve to it). A
 * later init with the same `userId` creates a new user, with a new `_id` and conversation.
 */
export async function eraseUser(env: Env, user: { id: string; appId: string }): Promise<void> {
  await eraseRows(env, { appId: user.appId, rows: await userAndMergedRows(env.DB, user.id) });
}
