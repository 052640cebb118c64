import { createMiddleware } from "hono/factory";
import { authenticateLimited } from "../auth/guessing";
import { appInScope, appUserInScope, requireAccountScope, requireLiveApp, requireServerScope } from "../auth/authorize";
import type { Credential } from "../auth/credential";
import { enforceRateLimit } from "../auth/rate-limit";
import { settledTogether } from "../lib/settled";
import type { AppEnv } from "./context";

type Context = Parameters<Parameters<typeof createMiddleware<AppEnv>>[0]>[0];

/** Who is calling (keys and app tokens come from the isolate cache), and from where. */
async function identify(c: Context): Promise<{ credential: Credential; address: string }> {
  const address = c.req.raw.headers.get("cf-connecting-ip") ?? "unknown";
  const credential = await authenticateLimited(
    c.env,
    { authorization: c.req.header("authorization"), appToken: c.req.header("app-token") },
    address,
  );
  c.set("credential", credential);
  return { credential, address };
}

/** Who is calling, then whether that caller still has budget. */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const { credential, address } = await identify(c);
  await enforceRateLimit(c.env, credential, address);
  await next();
});

/**
 * The app-user chains in one step, the hot path of every post: once the caller is known, its
 * budget and the app user's lookup run side by side rather than one after the other. Refusals
 * keep their order: over budget (429) first, then scope (403, 404), then the user.
 */
const authenticateAppUser = (serverOnly: boolean) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const { credential, address } = await identify(c);
    const lookup = async () => {
      const appId = await appInScope(c.env, credential, c.req.param("appId"));
      if (serverOnly) requireServerScope(credential);
      return appUserInScope(c.env, appId, credential, c.req.param("appUserId") ?? "");
    };
    const [, appUser] = await settledTogether(enforceRateLimit(c.env, credential, address), lookup());
    c.set("appId", appUser.appId);
    c.set("appUser", appUser);
    await next();
  });

export const authenticateForAppUser = authenticateAppUser(false);
export const authenticateServerForAppUser = authenticateAppUser(true);

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

export const liveApp = createMiddleware<AppEnv>(async (c, next) => {
  await requireLiveApp(c.env, c.get("appId"));
  await next();
});
