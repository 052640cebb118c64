import { authenticate, loadAppUser, requireAccount, requireServer, scopeToApp } from "../auth/middleware";

/**
 * The middleware each kind of route runs, in order. Routes list them explicitly rather than
 * through `use("*")`, which in a mounted router would reach the other routers' paths too.
 */
export const accountAccess = [authenticate, requireAccount] as const;
export const appAccess = [authenticate, scopeToApp] as const;
export const serverAccess = [authenticate, scopeToApp, requireServer] as const;
export const appUserAccess = [authenticate, scopeToApp, loadAppUser] as const;
