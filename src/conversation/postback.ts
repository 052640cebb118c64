import type { AppUser } from "../db/app-users";
import { notFound } from "../errors";
import { CHANNELS } from "../channels/registry";
import { destinationsFor } from "../delivery/destinations";
import { conversationStub } from "./stub";

/**
 * The app user pressed a postback button: webhooks listening to `postback` hear of it, with the
 * message that carried the button, through the conversation's outbox.
 */
export async function postBack(env: Env, user: AppUser, actionId: string): Promise<void> {
  const destinations = await destinationsFor(env, CHANNELS, user, { kind: "postback" });
  const found = await conversationStub(env, user.conversationId).postback(actionId, destinations);
  if (!found) throw notFound(`actionId: no postback action '${actionId}' in this app user's conversation`);
}
