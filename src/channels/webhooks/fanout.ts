import type { AppUser } from "../../db/app-users";
import { presentAppUser } from "../../presenters/app-user";
import { appWebhooks } from "./cache";
import type { Fanout } from "./delivery";

/**
 * The webhooks a message of this user's reaches, with the user as their payloads show it; none
 * when the app has no webhooks. The list comes from the isolate cache: every post needs it.
 */
export async function fanoutFor(env: Env, user: AppUser): Promise<Fanout | undefined> {
  const webhooks = await appWebhooks(env, user.appId);
  if (webhooks.length === 0) return undefined;
  return {
    webhooks: webhooks.map(({ id, triggers }) => ({ id, triggers })),
    // The message being posted starts the conversation if nothing had yet.
    appUser: presentAppUser({ ...user, conversationStarted: true }),
  };
}
