import { createMiddleware } from "hono/factory";
import { authenticateLimited } from "../auth/guessing";
import { appInScope, appUserInScope, requireAccountScope, requireLiveApp, requireServerScope } from "../auth/authorize";
import type { Credential } from "../auth/credential";
import { enforceRateLimit } from "../auth/rate-limit";
import { callerAddress } from "../lib/ip-address";
import { settledTogether } from "../lib/settled";
import type { AppEnv } from "./context";

type Context = Parameters<Parameters<typeof createMiddleware<AppEnv>>[0]>[0];

/** Who is calling (keys and app tokens come from the isolate cache), and from where. */
async function identify(c: Context): Promise<{ credential: Credential; address: string }> {
  const address = callerAddress(c.req.raw);
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
 * The app-level chains in one step: once the caller is known, its budget and what the route
 * looks up (the app user, or that the app is live) run side by side rather than one after the
 * other. Refusals keep their order: over budget (429) first, then scope (403, 404), then the
 * lookup.
 */
const authenticateFor = (serverOnly: boolean, lookup: (c: Context, credential: Credential, appId: string) => Promise<void>) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const { credential, address } = await identify(c);
    const scoped = async () => {
      const appId = await appInScope(c.env, credential, c.req.param("appId"));
      if (serverOnly) requireServerScope(credential);
      c.set("appId", appId);
      await lookup(c, credential, appId);
    };
    await settledTogether(enforceRateLimit(c.env, credential, address), scoped());
    await next();
  });

const appUser = async (c: Context, credential: Credential, appId: string) =>
  c.set("appUser", await appUserInScope(c.env, appId, credential, c.req.param("appUserId") ?? ""));
const liveApp = (c: Context, _credential: Credential, appId: string) => requireLiveApp(c.env, appId);

export const authenticateForAppUser = authenticateFor(false, appUser);
export const authenticateServerForAppUser = authenticateFor(true, appUser);
/** For routes whose every effect is a write D1 refuses for an app being deleted (migrations/0008). */
export const authenticateForAppWrites = authenticateFor(false, async () => {});
export const authenticateServerForApp = authenticateFor(true, liveApp);
/** For the reads that check the app is live in their own query (one D1 round trip, not two). */
export const authenticateServerForAppReads = authenticateFor(true, async () => {});

export const requireAccount = createMiddleware<AppEnv>(async (c, next) => {
  requireAccountScope(c.get("credential"));
  await next();
});

