import { ApiError, ErrorCode } from "../errors";
import type { Credential } from "./credential";

/** Both budgets count over 60 seconds (wrangler.toml), so a refused caller can retry after that. */
const PERIOD_SECONDS = 60;

/**
 * The budget a credential spends: devices (app token, appUser JWT) share the smaller
 * RATE_LIMITER, the business's servers (app and account JWTs) the larger SERVER_RATE_LIMITER.
 * Keys are per caller, so a caller over budget never affects another app or user.
 */
function budget(env: Env, credential: Credential, clientAddress: string): [RateLimit, string] {
  if (credential.kind === "appToken") return [env.RATE_LIMITER, `token:${credential.appId}:${clientAddress}`];
  if (credential.scope === "appUser") return [env.RATE_LIMITER, `user:${credential.appId}:${credential.userId}`];
  return [env.SERVER_RATE_LIMITER, `key:${credential.keyId}`];
}

export async function enforceRateLimit(env: Env, credential: Credential, clientAddress: string): Promise<void> {
  const [limiter, key] = budget(env, credential, clientAddress);
  const { success } = await limiter.limit({ key });
  if (!success) {
    throw new ApiError(ErrorCode.TooManyRequests, "rate limit: too many requests from this caller, retry later", {
      "Retry-After": String(PERIOD_SECONDS),
    });
  }
}
