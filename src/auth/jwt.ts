import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from "jose";
import { unauthorized } from "../errors";
import { TtlCache } from "../lib/ttl-cache";
import type { Credential } from "./credential";
import { findSigner } from "./lookup";

const ALGORITHMS = ["HS256", "HS384", "HS512"];
const encoder = new TextEncoder();

/**
 * HMAC keys imported from key secrets, by algorithm and secret: importing one on every request
 * was a measurable part of a JWT request's CPU. Which secrets are valid is still decided by
 * `findSigner` on every request; this only saves the import.
 */
const hmacKeys = new TtlCache<CryptoKey>(1_000);
const HMAC_KEY_SECONDS = 300;

async function hmacKey(alg: string, secret: string): Promise<CryptoKey> {
  const id = `${alg} ${secret}`;
  const cached = hmacKeys.peek(id);
  if (cached) return cached.value;
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: `SHA-${alg.slice(2)}` }, false, ["verify"]);
  hmacKeys.set(id, key, HMAC_KEY_SECONDS);
  return key;
}

/** A claim or header value for an error message; String() throws on objects whose toString is not a function. */
const shown = (value: unknown) => (typeof value === "string" ? value : (JSON.stringify(value) ?? ""));

function readHeader(token: string) {
  try {
    return decodeProtectedHeader(token);
  } catch {
    throw unauthorized("authorization: the bearer token is not a well-formed JWT");
  }
}

async function verifySignature(token: string, alg: string, secret: string): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, await hmacKey(alg, secret), { algorithms: ALGORITHMS });
    return payload;
  } catch (error) {
    if (error instanceof errors.JWTExpired) throw unauthorized("authorization: the JWT has expired");
    if (error instanceof errors.JWTClaimValidationFailed) {
      throw unauthorized(`authorization: the JWT claim ${error.claim} is not valid (${error.reason})`);
    }
    throw unauthorized("authorization: the JWT signature does not verify");
  }
}

/**
 * Tokens that verified, with their claims: a business server sends the same JWT on every call,
 * and decoding and checking it again was a tenth of such a post's CPU. A hit still asks
 * `findSigner` (a key deleted or whose secret changed stops its tokens as it stops new ones)
 * and checks the time claims again, so a token is taken from here exactly when it would verify.
 */
interface Verified {
  kid: string;
  secret: string;
  payload: JWTPayload;
}
const verified = new TtlCache<Verified>(1_000);
const VERIFIED_SECONDS = 60;
/** Longer tokens are verified every time rather than held. */
const MAX_CACHED_TOKEN = 2_048;

/** What jose's jwtVerify checks of the time claims, against the clock now. */
function inTime({ exp, nbf }: JWTPayload): boolean {
  const now = Math.floor(Date.now() / 1000);
  return (exp === undefined || exp > now) && (nbf === undefined || nbf <= now);
}

/** Verifies a bearer JWT: HMAC only, a known `kid`, a valid signature and a known scope. */
export async function verifyJwt(env: Env, token: string): Promise<Credential> {
  const known = verified.peek(token)?.value;
  if (known && inTime(known.payload)) {
    const signer = await findSigner(env, known.kid);
    if (signer?.secret === known.secret) return credentialOf(signer.appId, known.kid, known.payload);
  }
  const header = readHeader(token);
  if (!header.alg || !ALGORITHMS.includes(header.alg)) {
    throw unauthorized(`authorization: JWT alg '${shown(header.alg)}' is not accepted; use ${ALGORITHMS.join(", ")}`);
  }
  if (typeof header.kid !== "string" || header.kid === "") {
    throw unauthorized("authorization: the JWT header has no kid");
  }
  const signer = await findSigner(env, header.kid);
  if (!signer) throw unauthorized(`authorization: no key with kid '${header.kid}'`);
  const payload = await verifySignature(token, header.alg, signer.secret);
  const credential = credentialOf(signer.appId, header.kid, payload);
  if (token.length <= MAX_CACHED_TOKEN) verified.set(token, { kid: header.kid, secret: signer.secret, payload }, VERIFIED_SECONDS);
  return credential;
}

/** The token of an `Authorization: Bearer <token>` header; undefined for any other form. */
export const bearerToken = (authorization: string | undefined) => /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];

/**
 * The `kid` a bearer credential names, if it is a JWT at all: read from a token that verified
 * before (every request of a business server), decoded otherwise.
 */
export function kidOf(authorization: string | undefined): string | undefined {
  const token = bearerToken(authorization);
  if (!token) return undefined;
  const known = verified.peek(token)?.value;
  if (known) return known.kid;
  try {
    const { kid } = decodeProtectedHeader(token);
    return typeof kid === "string" && kid !== "" ? kid : undefined;
  } catch {
    return undefined;
  }
}

/** The credential a verified token's claims make, or why they make none. */
function credentialOf(appId: string | null, kid: string, payload: JWTPayload): Credential {
  const scope = payload.scope;
  if (appId === null) {
    if (scope !== "account") throw unauthorized("authorization: the account key signs only account-scope JWTs");
    return { kind: "jwt", scope: "account", keyId: kid };
  }
  if (scope === "app") return { kind: "jwt", scope: "app", appId, keyId: kid };
  if (scope === "appUser") {
    if (typeof payload.userId !== "string" || payload.userId === "") {
      throw unauthorized("authorization: an appUser-scope JWT must carry a userId");
    }
    return { kind: "jwt", scope: "appUser", appId, keyId: kid, userId: payload.userId };
  }
  throw unauthorized(`authorization: JWT scope '${shown(scope)}' is not one of appUser, app`);
}
