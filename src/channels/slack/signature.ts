import { fromHex } from "../../lib/hex";

/** Slack refuses, and so does Parley, a request signed more than five minutes from now: a replay. */
export const MAX_SKEW_SECONDS = 300;

const encoder = new TextEncoder();

/**
 * Whether an Events API request is Slack's: `X-Slack-Signature` is `v0=` and the hex HMAC-SHA256,
 * keyed with the app's signing secret, of `v0:{X-Slack-Request-Timestamp}:{raw body}`, and the
 * timestamp is within five minutes of now. crypto.subtle.verify compares in constant time.
 */
export async function isSlackSigned(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  rawBody: string,
  nowSeconds = Date.now() / 1000,
): Promise<boolean> {
  const { timestamp, signature } = headers;
  if (!timestamp || !/^\d{1,12}$/.test(timestamp) || Math.abs(nowSeconds - Number(timestamp)) > MAX_SKEW_SECONDS) return false;
  const hex = /^v0=([0-9a-f]{64})$/.exec(signature ?? "")?.[1];
  if (!hex) return false;
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  return crypto.subtle.verify("HMAC", key, fromHex(hex), encoder.encode(`v0:${timestamp}:${rawBody}`));
}
