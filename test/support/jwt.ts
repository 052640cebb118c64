// JWTs for every suite: signed ones as an SDK or a business's server makes them, and the raw
// pieces (base64url segments, HMAC signatures) that forgeries are built from. Runtime-neutral:
// jose and web-standard APIs only, so that workerd and Node load it alike.
import { SignJWT } from "jose";

const encoder = new TextEncoder();

/** A key that signs JWTs: an app's key, or the account key. */
export interface Signer {
  keyId: string;
  secret: string;
}

export interface SignOptions {
  /** The header's alg; HS256 unless given. */
  alg?: string;
  /** Expiry: epoch seconds, or a span from now such as "10m" (jose's notation). None unless given. */
  exp?: number | string;
  /** Whether to set iat to now; true unless given. */
  iat?: boolean;
}

/** A JWT signed with `secret` under `kid`, as smooch-core and the business's servers make them. */
export async function sign(
  payload: Record<string, unknown>,
  kid: string,
  secret: string,
  { alg = "HS256", exp, iat = true }: SignOptions = {},
): Promise<string> {
  const jwt = new SignJWT(payload).setProtectedHeader({ alg, kid });
  if (iat) jwt.setIssuedAt();
  if (exp !== undefined) jwt.setExpirationTime(exp);
  return jwt.sign(encoder.encode(secret));
}

/** The Authorization header of a JWT. */
export const bearer = (jwt: string): Record<string, string> => ({ authorization: `Bearer ${jwt}` });

/** An account-scope JWT: what the operator's tooling uses on /v1/apps. */
export const accountJwt = (account: Signer, options?: SignOptions) =>
  sign({ scope: "account" }, account.keyId, account.secret, options);

/** Bytes as base64url without padding, the encoding of every JWT segment. */
export const base64url = (bytes: Uint8Array) =>
  btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join("")).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** A JWT segment of any text (JSON or not), encoded as UTF-8. */
export const segment = (text: string) => base64url(encoder.encode(text));

/** A JWT segment of a JSON value. */
export const jsonSegment = (value: unknown) => segment(JSON.stringify(value));

export type HmacAlg = "HS256" | "HS384" | "HS512";
const HASH: Record<HmacAlg, string> = { HS256: "SHA-256", HS384: "SHA-384", HS512: "SHA-512" };

/** The HMAC signature segment of `input` (a JWT's "header.payload"). */
export async function hmac(alg: HmacAlg, secret: string, input: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: HASH[alg] }, false, ["sign"]);
  return base64url(new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(input))));
}

/**
 * A JWT of any header and payload text, HMAC-signed with `secret` whatever its header says: how
 * a forger builds what jose would refuse to make.
 */
export async function forgeJwt(header: string, payload: string, secret: string, alg: HmacAlg = "HS256"): Promise<string> {
  const input = `${segment(header)}.${segment(payload)}`;
  return `${input}.${await hmac(alg, secret, input)}`;
}

/** An `alg: none` JWT with a real kid: what a forger sends, so it must be refused for its alg alone. */
export const unsignedJwt = (payload: Record<string, unknown>, kid: string) =>
  `${jsonSegment({ alg: "none", kid })}.${jsonSegment(payload)}.`;
