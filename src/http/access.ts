import {
  authenticate,
  authenticateForAppWrites,
  authenticateForAppUser,
  authenticateServerForApp,
  authenticateServerForAppReads,
  authenticateServerForAppUser,
  requireAccount,
} from "./auth";
import { describe } from "./openapi";

/**
 * The middleware each kind of route runs, in order, headed by what it tells the OpenAPI
 * document about the credentials it accepts. Routes list them explicitly rather than through
 * `use("*")`, which in a mounted router would reach the other routers' paths too.
 */
export const publicAccess = describe({ access: "public" });
export const accountAccess = [describe({ access: "account" }), authenticate, requireAccount] as const;
/**
 * The app-level chains check the app is live (D1, at once); the app-user chains' cached user lookup
 * within AUTH_CACHE_SECONDS. Init's writes check it themselves: D1 refuses a user or device of an
 * app being deleted (migrations/0008), so its one batch needs no read ahead of it.
 */
export const appAccess = [describe({ access: "app" }), authenticateForAppWrites] as const;
export const serverAccess = [describe({ access: "server" }), authenticateServerForApp] as const;
/** serverAccess for a route whose domain reads the app's liveness with its query (e.g. listConversations). */
export const serverReadAccess = [describe({ access: "server" }), authenticateServerForAppReads] as const;
export const appUserAccess = [describe({ access: "appUser" }), authenticateForAppUser] as const;
/** The business's servers acting on one app user: the scope is checked before the user is looked up. */
export const serverAppUserAccess = [describe({ access: "server" }), authenticateServerForAppUser] as const;
