import { ApiError, ErrorCode } from "../errors";
import { callerNetwork } from "../lib/ip-address";
import type { Credential } from "./credential";

/** Both budgets count over 60 seconds (wrangler.toml), so a refused caller can retry after that. */
const PERIOD_SECONDS = 60;

/**
 * The budgets a credential spends, in order: devices (app token, appUser JWT) share the smaller
 * RATE_LIMITER, the business's servers (app and account JWTs) the larger SERVER_RATE_LIMITER.
 * Keys are per caller (an IPv6 caller is its /64), so a caller over budget never affects
 * another app or user; an app token's requests also spend the app's APP_RATE_LIMITER, so that
 * anonymous traffic spread over many addresses is still bounded.
 */
function budgets(env: Env, credential: Credential, clientAddress: string): Array<[RateLimit, string]> {
  if (credential.kind === "appToken") {
    return [
      [env.RATE_LIMITER, `token:${credential.appId}:${callerNetwork(clientAddress)}`],
      [env.APP_RATE_LIMITER, `app:${credential.appId}`],
    ];
  }
  if (credential.scope === "appUser") return [[env.RATE_LIMITER, `user:${credential.appId}:${credential.userId}`]];
  return [[env.SERVER_RATE_LIMITER, `key:${credential.keyId}`]];
}

export async function enforceRateLimit(env: Env, credential: Credential, clientAddress: string): Promise<void> {
  // One after the other: a caller refused by its own budget spends nothing of its app's.
  for (const [limiter, key] of budgets(env, credential, clientAddress)) {
    const { success } = await limiter.limit({ key });
    if (!success) {
      throw new ApiError(ErrorCode.TooManyRequests, "rate limit: too many requests from this caller, retry later", {
        "Retry-After": String(PERIOD_SECONDS),
      });
    }
  }
}

/**
 * Realtime connections a caller opens, per network address: WebSockets at the upgrade, and
 * handshakes (over HTTP, a long-polling session; over a socket, a client id it takes), each of
 * which creates an object holding subscriptions for a while.
 */
export async function enforceRealtimeBudget(env: Env, kind: "socket" | "handshake", clientAddress: string): Promise<void> {
  const { success } = await env.REALTIME_LIMITER.limit({ key: `${kind}:${callerNetwork(clientAddress)}` });
  if (!success) {
    throw new ApiError(ErrorCode.TooManyRequests, `rate limit: too many realtime ${kind}s from this caller, retry later`, {
      "Retry-After": String(PERIOD_SECONDS),
    });
  }
}
