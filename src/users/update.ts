import { forgetAppUsers } from "../auth/app-users";
import { updateProfile, type AppUser, type ProfileChanges } from "../db/app-users";
import { announceChanges } from "../desk-live/announce";
import { badRequest } from "../errors";
import { FLAT_OBJECT_MAX_BYTES } from "../lib/schemas";

const hasChanges = (changes: ProfileChanges) => Object.values(changes).some((value) => value !== undefined);

/** Whether the conversation list shows the user differently (an init repeating the same profile changes nothing there). */
const listedDifferently = (before: AppUser, after: AppUser) =>
  before.givenName !== after.givenName ||
  before.surname !== after.surname ||
  before.email !== after.email ||
  JSON.stringify(before.properties) !== JSON.stringify(after.properties);

/** Applies an additive profile update; `field` names the properties in the caller's body. */
export async function updateUser(env: Env, user: AppUser, changes: ProfileChanges, field = "properties"): Promise<AppUser> {
  if (!hasChanges(changes)) return user;
  const updated = await updateProfile(env.DB, user.id, changes);
  forgetAppUsers([user.id]);
  if (!updated) throw badRequest(`${field}: the user's properties would exceed ${FLAT_OBJECT_MAX_BYTES} bytes as JSON`);
  if (listedDifferently(user, updated)) await announceChanges(env, user.appId, [user.id]);
  return updated;
}
