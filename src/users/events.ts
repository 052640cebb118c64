import type { AppUser, ProfileChanges } from "../db/app-users";
import { fireWhispers } from "../whispers/fire";
import { updateUser } from "./update";

/**
 * Tracks an app user's event: first the profile changes sent along with it (smooch-core sends
 * the user's attributes), then every whisper listening to the event. True when a whisper posted.
 */
export async function trackEvent(env: Env, user: AppUser, event: string, changes: ProfileChanges): Promise<boolean> {
  const updated = await updateUser(env, user, changes, "appUser.properties");
  return fireWhispers(env, updated, event);
}
