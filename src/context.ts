import type { Credential } from "./auth/credential";
import type { AppUser } from "./db/app-users";

/** Hono's bindings and the per-request values the middleware establishes. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    credential: Credential;
    /** The app every app-level route acts on. */
    appId: string;
    /** The app user named by `{appUserId|userId}` in the path, once access is granted. */
    appUser: AppUser;
  };
}

export type { AppUser };
