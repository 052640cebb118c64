import { toHex } from "../../lib/hex";

const encoder = new TextEncoder();

/** HMAC keys by secret: importing one costs more than signing with it. Settled keys only (see TtlCache). */
const keys = new Map<string, CryptoKey>();

async function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    // Webhook secrets are few; a bound keeps a long-lived isolate from collecting them forever.
    if (keys.size >= 1000) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`: the receiver recomputes it with the
 * webhook's signing secret (never the X-API-Key secret, which every delivery carries) to check
 * the body, and rejects old `t` values to stop replays.
 */
export async function signatureHeader(secret: string, body: string, timestamp: number): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(`${timestamp}.${body}`));
  return `t=${timestamp},v1=${toHex(mac)}`;
}
