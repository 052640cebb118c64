import type { AppUser } from "../db/app-users";
import { notFound } from "../errors";
import type { MessagePage } from "./page";
import { conversationStub } from "./stub";

/** The newest page of the user's conversation; the contract's 404 when nothing was said yet. */
export async function readConversation(env: Env, user: AppUser): Promise<MessagePage> {
  const page = await conversationStub(env, user.conversationId).newest();
  if (page.firstReceived === null) throw notFound(`conversation: app user '${user.id}' has no conversation yet`);
  return page;
}

/** A page of messages before or after a `received` time (unix seconds, bound excluded), or the newest. */
export async function readMessages(env: Env, user: AppUser, bound: { before?: number; after?: number }): Promise<MessagePage> {
  const stub = conversationStub(env, user.conversationId);
  if (bound.before !== undefined) return stub.before(Math.round(bound.before * 1000));
  if (bound.after !== undefined) return stub.after(Math.round(bound.after * 1000));
  return stub.newest();
}
