import { ApiError, ErrorCode } from "../errors";
import { sha256Hex } from "../lib/hex";
import { callerNetwork } from "../lib/ip-address";
import { TtlCache } from "../lib/ttl-cache";
import { authenticate, type PresentedCredentials } from "./authenticate";
import type { Credential } from "./credential";
import { kidOf } from "./jwt";
import { findSigner } from "./lookup";

/** AUTH_FAILURE_LIMITER counts over 60 seconds (wrangler.toml). */
const PERIOD_SECONDS = 60;
/** Scopes this isolate has seen go over budget, and the failing credentials it has counted; bounded, since both are the caller's to choose. */
const blocked = new TtlCache<true>(10_000);
const counted = new TtlCache<true>(50_000);

const tooManyFailures = () =>
  new ApiError(ErrorCode.TooManyRequests, "credentials: too many failed authentications from this caller, retry later", {
    "Retry-After": String(PERIOD_SECONDS),
  });

/**
 * What a failure is counted against: the caller's network, and the app when the credential names
 * one (a JWT whose kid is one of the app's keys), so that a device behind a shared address that
 * keeps presenting a stale JWT of one app never locks out that address's callers of other apps.
 */
async function scopeOf(env: Env, network: string, kid: string | undefined): Promise<string> {
  const appId = kid ? (await findSigner(env, kid))?.appId : null;
  return appId ? `address:${network}:app:${appId}` : `address:${network}`;
}

const digest = (presented: PresentedCredentials) => sha256Hex(`${presented.authorization ?? ""}\n${presented.appToken ?? ""}`);

/**
 * Counts a failed authentication against its scope and the JWT's kid; over either budget, the
 * failure is a 429. Each distinct failing credential is counted once a period per scope (in this
 * isolate): a client retrying one stale token spends one failure, a guesser one per guess. A
 * scope over budget is then refused before anything is checked for the rest of the period (in
 * this isolate), so that a right guess learns nothing. A kid is not blocked that way: anyone can
 * name one, and its owner must keep working.
 */
async function countFailure(env: Env, scope: string, kid: string | undefined, presented: PresentedCredentials): Promise<void> {
  const seen = `${scope} ${await digest(presented)}`;
  if (counted.peek(seen)) return;
  counted.set(seen, true, PERIOD_SECONDS);
  const keys = [scope, ...(kid ? [`kid:${kid}`] : [])];
  const outcomes = await Promise.all(keys.map((key) => env.AUTH_FAILURE_LIMITER.limit({ key })));
  if (!outcomes[0].success) blocked.set(scope, true, PERIOD_SECONDS);
  if (outcomes.some((outcome) => !outcome.success)) throw tooManyFailures();
}

/** `authenticate`, with failed attempts limited per caller (requests without any credential are not attempts). */
export async function authenticateLimited(env: Env, presented: PresentedCredentials, clientAddress: string): Promise<Credential> {
  const attempt = presented.authorization !== undefined || presented.appToken !== undefined;
  if (!attempt) return authenticate(env, presented);
  const kid = kidOf(presented.authorization);
  const scope = await scopeOf(env, callerNetwork(clientAddress), kid);
  if (blocked.peek(scope)) throw tooManyFailures();
  try {
    return await authenticate(env, presented);
  } catch (error) {
    if (error instanceof ApiError && error.code === ErrorCode.Unauthorized) await countFailure(env, scope, kid, presented);
    throw error;
  }
}
