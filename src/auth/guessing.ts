import { decodeProtectedHeader } from "jose";
import { ApiError, ErrorCode } from "../errors";
import { callerNetwork } from "../lib/ip-address";
import { authenticate, type PresentedCredentials } from "./authenticate";
import type { Credential } from "./credential";

/** AUTH_FAILURE_LIMITER counts over 60 seconds (wrangler.toml). */
const PERIOD_SECONDS = 60;
/** Addresses this isolate has seen go over budget; bounded, since addresses are the caller's to choose. */
const MAX_BLOCKED = 10_000;
const blocked = new Map<string, number>();

const tooManyFailures = () =>
  new ApiError(ErrorCode.TooManyRequests, "credentials: too many failed authentications from this caller, retry later", {
    "Retry-After": String(PERIOD_SECONDS),
  });

function block(address: string): void {
  blocked.delete(address);
  if (blocked.size >= MAX_BLOCKED) blocked.delete(blocked.keys().next().value!);
  blocked.set(address, Date.now() + PERIOD_SECONDS * 1000);
}

function isBlocked(address: string): boolean {
  const until = blocked.get(address);
  if (until === undefined) return false;
  if (until > Date.now()) return true;
  blocked.delete(address);
  return false;
}

/** The `kid` a bearer token names, if it is a JWT at all. */
function kidOf(authorization: string | undefined): string | undefined {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
  if (!token) return undefined;
  try {
    const { kid } = decodeProtectedHeader(token);
    return typeof kid === "string" && kid !== "" ? kid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Counts a failed authentication against the client address and the JWT's kid; over either
 * budget, the failure is a 429. An address over budget is then refused before anything is
 * checked for the rest of the period (in this isolate), so that a right guess learns nothing.
 * A kid is not blocked that way: anyone can name one, and its owner must keep working.
 */
async function countFailure(env: Env, address: string, kid: string | undefined): Promise<void> {
  const keys = [`address:${address}`, ...(kid ? [`kid:${kid}`] : [])];
  const outcomes = await Promise.all(keys.map((key) => env.AUTH_FAILURE_LIMITER.limit({ key })));
  if (!outcomes[0].success) block(address);
  if (outcomes.some((outcome) => !outcome.success)) throw tooManyFailures();
}

/** `authenticate`, with failed attempts limited per caller (requests without any credential are not attempts). */
export async function authenticateLimited(env: Env, presented: PresentedCredentials, clientAddress: string): Promise<Credential> {
  const address = callerNetwork(clientAddress);
  const attempt = presented.authorization !== undefined || presented.appToken !== undefined;
  if (attempt && isBlocked(address)) throw tooManyFailures();
  try {
    return await authenticate(env, presented);
  } catch (error) {
    if (attempt && error instanceof ApiError && error.code === ErrorCode.Unauthorized) {
      await countFailure(env, address, kidOf(presented.authorization));
    }
    throw error;
  }
}
