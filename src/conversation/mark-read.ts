import type { Credential } from "../auth/credential";
import type { AppUser } from "../db/app-users";
import type { Role } from "../enums";
import { CHANNELS } from "../channels/registry";
import { destinationsFor } from "../delivery/destinations";
import { assertMayActAs } from "./role";
import { conversationStub } from "./stub";

/**
 * Marks the user's conversation read by one side: the app user's (any credential of the user:
 * their `unreadCount` drops to 0) or the app maker's (app scope only). Webhooks listening to
 * `conversation:read` hear of it through the conversation's outbox.
 */
export async function markRead(env: Env, credential: Credential, user: AppUser, role: Role): Promise<void> {
  assertMayActAs(credential, role, "reading");
  const destinations = await destinationsFor(env, CHANNELS, user, { kind: "read" });
  await conversationStub(env, user.conversationId).markRead({ role, conversationId: user.conversationId }, destinations);
}
