import { forgetAppUsers } from "../auth/app-users";
import { updateProfile, type AppUser, type ProfileChanges } from "../db/app-users";
import { badRequest } from "../errors";
import { FLAT_OBJECT_MAX_BYTES } from "../lib/schemas";

const hasChanges = (changes: ProfileChanges) => Object.values(changes).some((value) => value !== undefined);

/** Applies an additive profile update; `field` names the properties in the caller's body. */
export async function updateUser(env: Env, user: AppUser, changes: ProfileChanges, field = "properties"): Promise<AppUser> {
  if (!hasChanges(changes)) return user;
  const updated = await updateProfile(env.DB, user.id, changes);
  forgetAppUsers([user.id]);
  if (!updated) throw badRequest(`${field}: the user's properties would exceed ${FLAT_OBJECT_MAX_BYTES} bytes as JSON`);
  return updated;
}
