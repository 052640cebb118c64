import type { Credential } from "../auth/credential";
import type { AppUser } from "../db/app-users";

/** Hono's bindings and the per-request values the middleware establishes. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** The request's id: echoed in X-Request-Id and in every error logged for it. */
    requestId: string;
    credential: Credential;
    /** The app every app-level route acts on. */
    appId: string;
    /** The app user named by `{appUserId|userId}` in the path, once access is granted. */
    appUser: AppUser;
  };
}
