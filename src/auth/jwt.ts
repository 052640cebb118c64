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

/** Verifies a bearer JWT: HMAC only, a known `kid`, a valid signature and a known scope. */
export async function verifyJwt(env: Env, token: string): Promise<Credential> {
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
  const scope = payload.scope;

  if (signer.appId === null) {
    if (scope !== "account") throw unauthorized("authorization: the account key signs only account-scope JWTs");
    return { kind: "jwt", scope: "account", keyId: header.kid };
  }
  if (scope === "app") return { kind: "jwt", scope: "app", appId: signer.appId, keyId: header.kid };
  if (scope === "appUser") {
    if (typeof payload.userId !== "string" || payload.userId === "") {
      throw unauthorized("authorization: an appUser-scope JWT must carry a userId");
    }
    return { kind: "jwt", scope: "appUser", appId: signer.appId, keyId: header.kid, userId: payload.userId };
  }
  throw unauthorized(`authorization: JWT scope '${shown(scope)}' is not one of appUser, app`);
}
