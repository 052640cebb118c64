import { createMiddleware } from "hono/factory";
import { authenticateLimited } from "../auth/guessing";
import { appInScope, appUserInScope, requireAccountScope, requireLiveApp, requireServerScope } from "../auth/authorize";
import { enforceRateLimit } from "../auth/rate-limit";
import type { AppEnv } from "./context";

/** Who is calling, then whether that caller still has budget. */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const address = c.req.raw.headers.get("cf-connecting-ip") ?? "unknown";
  const credential = await authenticateLimited(
    c.env,
    { authorization: c.req.header("authorization"), appToken: c.req.header("app-token") },
    address,
  );
  c.set("credential", credential);
  await enforceRateLimit(c.env, credential, address);
  await next();
});

export const requireAccount = createMiddleware<AppEnv>(async (c, next) => {
  requireAccountScope(c.get("credential"));
  await next();
});

export const scopeToApp = createMiddleware<AppEnv>(async (c, next) => {
  c.set("appId", await appInScope(c.env, c.get("credential"), c.req.param("appId")));
  await next();
});

export const requireServer = createMiddleware<AppEnv>(async (c, next) => {
  requireServerScope(c.get("credential"));
  await next();
});

export const loadAppUser = createMiddleware<AppEnv>(async (c, next) => {
  c.set("appUser", await appUserInScope(c.env, c.get("appId"), c.get("credential"), c.req.param("appUserId") ?? ""));
  await next();
});

export const liveApp = createMiddleware<AppEnv>(async (c, next) => {
  await requireLiveApp(c.env, c.get("appId"));
  await next();
});
