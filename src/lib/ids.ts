/** Random identifiers and secrets, all from the platform's CSPRNG. */
import { toHex } from "./hex";

function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

/** 24 lowercase hex characters, the shape of every `_id` in the contract. */
export const newId = () => toHex(randomBytes(12));

/** Webhook secrets: 40 hex characters, as in the contract's examples. */
export const newHexSecret = () => toHex(randomBytes(20));

/** Webhook signing secrets: 256 bits as 64 hex characters. */
export const newSigningSecret = () => toHex(randomBytes(32));

const BASE36 = "abcdefghijklmnopqrstuvwxyz0123456789";

/** Lowercase alphanumerics without modulo bias (rejection sampling). */
export function newToken(length: number): string {
  const limit = 256 - (256 % BASE36.length);
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit && out.length < length) out += BASE36[byte % BASE36.length];
    }
  }
  return out;
}

/** Key secrets: 256 bits, base64url. */
export function newKeySecret(): string {
  return btoa(String.fromCharCode(...randomBytes(32)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}
