import type { AppUser } from "../../db/app-users";
import { PUSH_INTEGRATION_TYPES } from "../../enums";
import { appIntegrations } from "../../integrations/cache";
import type { PushRecipient } from "./jobs";

/**
 * Whom the user's appMaker messages are pushed to: the user, when the app has a push channel at
 * all; none otherwise, so that an app without channels pays no job, queue message or D1 read for
 * any message. The channels come from the isolate cache, as the webhook list does: a channel
 * just configured is used within AUTH_CACHE_SECONDS.
 */
export async function pushRecipientFor(env: Env, user: AppUser): Promise<PushRecipient | undefined> {
  const integrations = await appIntegrations(env, user.appId);
  if (!integrations.some((integration) => PUSH_INTEGRATION_TYPES.includes(integration.type))) return undefined;
  return { appId: user.appId, appUserId: user.id, conversationId: user.conversationId };
}
