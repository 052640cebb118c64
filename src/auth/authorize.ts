import type { AppUser } from "../db/app-users";
import { isAppLive } from "../db/apps";
import { forbidden, notFound, unauthorized } from "../errors";
import { isServerCredential, type Credential } from "./credential";
import { cachedAppUser } from "./app-users";
import { cachedApp } from "./lookup";

export function requireAccountScope(credential: Credential): void {
  if (credential.kind !== "jwt" || credential.scope !== "account") {
    throw forbidden("credentials: this endpoint requires a JWT with account scope");
  }
}

/** App-scope JWTs (or the account): webhooks, whispers, pre-create and appMaker messages. */
export function requireServerScope(credential: Credential): void {
  if (!isServerCredential(credential)) throw forbidden("credentials: this endpoint requires a JWT with app scope");
}

/**
 * The app an app-level request acts on: the credential's own app, or, under
 * `/v1/apps/{appId}/...`, the app an account credential names. A key never reaches another app.
 */
export async function appInScope(env: Env, credential: Credential, pathAppId: string | undefined): Promise<string> {
  if (credential.kind === "jwt" && credential.scope === "account") {
    if (!pathAppId) throw forbidden("credentials: account scope acts on an app through /v1/apps/{appId}/...");
    if (!(await cachedApp(env, pathAppId))) throw notFound(`appId: no app '${pathAppId}'`);
    return pathAppId;
  }
  if (pathAppId && pathAppId !== credential.appId) throw notFound(`appId: no app '${pathAppId}'`);
  return credential.appId;
}

/**
 * The app user named by `{appUserId|userId}`, once the caller is known to may act for it. An
 * appUser JWT asking for anyone but its own user gets the same 403 whether that user exists or
 * not, so that it cannot probe which ids or userIds exist.
 */
export async function appUserInScope(env: Env, appId: string, credential: Credential, id: string): Promise<AppUser> {
  const appUser = await cachedAppUser(env, appId, id);
  if (credential.kind === "jwt" && credential.scope === "appUser" && credential.userId !== appUser?.userId) {
    // Its own userId not found yet is the one miss it may learn of.
    if (!appUser && id === credential.userId) throw notFound(`appUserId: no app user '${id}'`);
    throw forbidden("credentials: this JWT belongs to another app user");
  }
  if (!appUser) throw notFound(`appUserId: no app user '${id}'`);
  if (credential.kind === "appToken" && appUser.credentialRequired) {
    throw unauthorized("credentials: this app user requires a JWT credential");
  }
  return appUser;
}

/**
 * For routes that reach the app without naming one of its users (whose lookup checks the same):
 * the app still exists and is not being deleted, read from D1 rather than the isolate cache, so
 * that a deleted app's credentials stop working in every isolate at once.
 */
export async function requireLiveApp(env: Env, appId: string): Promise<void> {
  if (!(await isAppLive(env.DB, appId))) throw noLiveApp(appId);
}

/** What a request on an app that is gone, or being deleted, gets. */
export const noLiveApp = (appId: string) => notFound(`appId: no app '${appId}'`);
