import { toHex } from "../../lib/hex";

/**
 * Reply addresses: `<appUserId>.<mac>@EMAIL_DOMAIN`, the mac an HMAC-SHA256 of the app and the
 * user under the email integration's own key, cut to 128 bits. Lowercase hex throughout, since
 * mail systems may change a local part's case. 24 + 1 + 32 = 57 characters, within the 64 a local
 * part may have. Only someone holding the key (never shown) can make one; deleting the user,
 * the app or the integration (whose replacement gets a new key) leaves nothing it verifies against.
 */
const MAC_HEX = 32;
const LOCAL_PART = /^([0-9a-f]{24})\.([0-9a-f]{32})$/;

async function mac(tokenKey: string, appId: string, appUserId: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(tokenKey), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const signature = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`parley-reply:${appId}:${appUserId}`));
  return toHex(signature).slice(0, MAC_HEX);
}

export async function replyLocalPart(tokenKey: string, appId: string, appUserId: string): Promise<string> {
  return `${appUserId}.${await mac(tokenKey, appId, appUserId)}`;
}

/** The app user a local part claims to be about, before anything is verified; null when it is not one of ours. */
export function claimedAppUser(localPart: string): { appUserId: string; mac: string } | null {
  const match = LOCAL_PART.exec(localPart.toLowerCase());
  return match ? { appUserId: match[1], mac: match[2] } : null;
}

/** Whether the mac is the one this key makes for the conversation (compared in constant time). */
export async function verifyReplyMac(tokenKey: string, appId: string, appUserId: string, claimed: string): Promise<boolean> {
  const expected = new TextEncoder().encode(await mac(tokenKey, appId, appUserId));
  const given = new TextEncoder().encode(claimed);
  if (given.length !== expected.length) return false;
  return crypto.subtle.timingSafeEqual(expected, given);
}
