import type { Credential } from "../auth/credential";
import { cachedApp } from "../auth/lookup";
import type { AppUser } from "../db/app-users";
import { announceTyping } from "../desk-live/announce";
import type { ActivityType, Role } from "../enums";
import { presentActivity } from "../presenters/activity";
import { assertMayActAs } from "./role";
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

/**
 * Typing by either side (POST .../conversation/activity): the business's is shown in the user's
 * messenger (app scope only), the user's in the app's open Desks (any credential of the user; the
 * messenger shows no typing of its own user, so it is not published to the conversation's channel).
 */
export async function sendActivityAs(
  env: Env,
  credential: Credential,
  user: AppUser,
  input: { role: Role; type: ActivityType; name?: string; avatarUrl?: string },
): Promise<void> {
  assertMayActAs(credential, input.role, "typing");
  if (input.role === "appUser") return announceTyping(env, user, input.type === "typing:start");
  await sendActivity(env, user, input);
}
