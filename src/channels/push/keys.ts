import { base64url, importPKCS8 } from "jose";
import { badRequest } from "../../errors";

/**
 * The signing keys integrations hold, checked when they are configured: a key that cannot sign
 * is a 400 naming its field now, not a failed push later.
 */

/** Imports a PKCS #8 PEM private key for `alg`; a 400 naming `field` when it is not one. */
export async function signingKey(pem: string, alg: "RS256" | "ES256", field: string): Promise<CryptoKey> {
  const kind = alg === "RS256" ? "an RSA" : "a P-256 (ES256)";
  if (!/-----BEGIN PRIVATE KEY-----[\s\S]+-----END PRIVATE KEY-----/.test(pem)) {
    throw badRequest(`${field}: must be ${kind} private key in PKCS #8 PEM ("-----BEGIN PRIVATE KEY-----")`);
  }
  try {
    return await importPKCS8(pem, alg);
  } catch {
    throw badRequest(`${field}: is not ${kind} private key in PKCS #8 PEM`);
  }
}

/** A fresh VAPID key pair (RFC 8292): the public key as applicationServerKey wants it, the private one as a JWK. */
export async function newVapidKeys(): Promise<{ publicKey: string; privateKey: JsonWebKey }> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const raw = (await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer;
  const jwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  return { publicKey: base64url.encode(new Uint8Array(raw)), privateKey: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d } };
}
