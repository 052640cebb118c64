import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context";
import { resolveAppUser } from "../db/app-users";
import { forbidden, notFound, unauthorized } from "../errors";
import { isServerCredential } from "./credential";
import { verifyJwt } from "./jwt";
import { cachedApp, findAppIdByToken } from "./lookup";
import { enforceRateLimit } from "./rate-limit";

/** Establishes the caller from `Authorization: Bearer <jwt>` (preferred) or `app-token`. */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const authorization = c.req.header("authorization");
  const appToken = c.req.header("app-token");
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw unauthorized("authorization: expected 'Bearer <jwt>'");
    c.set("credential", await verifyJwt(c.env, match[1]));
  } else if (appToken) {
    const appId = await findAppIdByToken(c.env, appToken);
    if (!appId) throw unauthorized("app-token: no app has this token");
    c.set("credential", { kind: "appToken", appId });
  } else {
    throw unauthorized("credentials: send an app-token header or 'Authorization: Bearer <jwt>'");
  }
  await enforceRateLimit(c.env, c.get("credential"), c.req.raw);
  await next();
});

export const requireAccount = createMiddleware<AppEnv>(async (c, next) => {
  const credential = c.get("credential");
  if (credential.kind !== "jwt" || credential.scope !== "account") {
    throw forbidden("credentials: this endpoint requires a JWT with account scope");
  }
  await next();
});

/**
 * Decides which app an app-level route acts on: the credential's own app, or, under
 * `/v1/apps/{appId}/...`, the app an account credential names. A key never reaches another app.
 */
export const scopeToApp = createMiddleware<AppEnv>(async (c, next) => {
  const credential = c.get("credential");
  const pathAppId = c.req.param("appId");
  if (credential.kind === "jwt" && credential.scope === "account") {
    if (!pathAppId) throw forbidden("credentials: account scope acts on an app through /v1/apps/{appId}/...");
    if (!(await cachedApp(c.env, pathAppId))) throw notFound(`appId: no app '${pathAppId}'`);
    c.set("appId", pathAppId);
  } else {
    if (pathAppId && pathAppId !== credential.appId) throw notFound(`appId: no app '${pathAppId}'`);
    c.set("appId", credential.appId);
  }
  await next();
});

/** App-scope JWTs (or the account): webhooks, whispers, pre-create and appMaker messages. */
export const requireServer = createMiddleware<AppEnv>(async (c, next) => {
  if (!isServerCredential(c.get("credential"))) {
    throw forbidden("credentials: this endpoint requires a JWT with app scope");
  }
  await next();
});

/** Loads the app user named in the path and checks that the caller may act for it. */
export const loadAppUser = createMiddleware<AppEnv>(async (c, next) => {
  const id = c.req.param("appUserId") ?? "";
  const appUser = await resolveAppUser(c.env.DB, c.get("appId"), id);
  if (!appUser) throw notFound(`appUserId: no app user '${id}'`);
  const credential = c.get("credential");
  if (credential.kind === "appToken" && appUser.credentialRequired) {
    throw unauthorized("credentials: this app user requires a JWT credential");
  }
  if (credential.kind === "jwt" && credential.scope === "appUser" && credential.userId !== appUser.userId) {
    throw forbidden("credentials: this JWT belongs to another app user");
  }
  c.set("appUser", appUser);
  await next();
});
