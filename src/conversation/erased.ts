import type { AppUser } from "../db/app-users";
import { notFound } from "../errors";
import { ERASED } from "./object/conversation";

/** A conversation call's failure, as a 404 when the user was deleted after the request found it (nothing was stored). */
export const whenErased = (user: AppUser) => (error: unknown) => {
  if (error instanceof Error && error.message.includes(ERASED)) throw notFound(`appUserId: app user '${user.id}' was deleted`);
  throw error;
};
