import { cachedApp } from "../auth/lookup";
import type { AppUser } from "../db/app-users";
import type { ActivityType } from "../enums";
import { presentActivity } from "../presenters/activity";
import { conversationStub } from "./stub";

/**
 * The business starts or stops typing in the user's conversation: its Conversation object
 * hands the activity to whoever watches the conversation live. Nothing is stored.
 */
export async function sendActivity(
  env: Env,
  user: AppUser,
  input: { type: ActivityType; name?: string; avatarUrl?: string },
): Promise<void> {
  const app = await cachedApp(env, user.appId);
  await conversationStub(env, user.conversationId).activity(presentActivity(app, input.type, input));
}
