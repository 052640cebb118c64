import { importPKCS8, SignJWT } from "jose";
import { config } from "../../config";
import type { IntegrationOf } from "../../db/integrations";
import { TtlCache } from "../../lib/ttl-cache";
import { errorCodes, outcomeOf, postTo, retry, type PushOutcome } from "./outcome";
import { apnsCollapse, type Notification } from "./payload";

/**
 * Apple refuses a provider token refreshed more than once in 20 minutes and one older than an
 * hour: each is kept for 40.
 */
const PROVIDER_TOKEN_SECONDS = 40 * 60;
/** A notification Apple could not deliver within a day is no longer worth showing. */
const EXPIRY_SECONDS = 24 * 60 * 60;

/** An APNs device token: 32 bytes in hex. Any other iOS token is an FCM registration token. */
export const isApnsDeviceToken = (token: string) => /^[0-9a-f]{64}$/i.test(token);

const providerTokens = new TtlCache<string>(1_000);

async function providerToken(apn: IntegrationOf<"apn">): Promise<string> {
  const cached = providerTokens.peek(apn.id);
  if (cached) return cached.value;
  const key = await importPKCS8(apn.secret.key, "ES256");
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid: apn.public.keyId })
    .setIssuer(apn.public.teamId)
    .setIssuedAt()
    .sign(key);
  providerTokens.set(apn.id, token, PROVIDER_TOKEN_SECONDS);
  return token;
}

const originOf = (env: Env, production: boolean) =>
  config(env).push.apnsApiUrl ?? (production ? "https://api.push.apple.com" : "https://api.sandbox.push.apple.com");

function payloadOf(notification: Notification) {
  const alert = { title: notification.title, ...(notification.body === null ? {} : { body: notification.body }) };
  return { aps: { alert, sound: "default" }, ...notification.data };
}

/** One push through Apple's provider API with token-based authentication. */
export async function sendApns(env: Env, apn: IntegrationOf<"apn">, token: string, notification: Notification): Promise<PushOutcome> {
  const response = await postTo("APNs", `${originOf(env, apn.public.production)}/3/device/${token}`, {
    headers: {
      authorization: `bearer ${await providerToken(apn)}`,
      "apns-topic": apn.public.bundleId,
      "apns-push-type": "alert",
      "apns-priority": "10",
      "apns-expiration": String(Math.floor(Date.now() / 1000) + EXPIRY_SECONDS),
      ...apnsCollapse(notification),
      "content-type": "application/json",
    },
    body: JSON.stringify(payloadOf(notification)),
  });
  if (!(response instanceof Response)) return response;
  const codes = await errorCodes(response);
  const reason = `APNs answered ${response.status}${codes.length ? ` ${codes.join(" ")}` : ""}`;
  if (codes.includes("ExpiredProviderToken")) {
    providerTokens.delete(apn.id);
    return retry(reason, response.status);
  }
  const dead = response.status === 404 || response.status === 410 || codes.includes("BadDeviceToken") || codes.includes("Unregistered");
  return outcomeOf(response, reason, dead);
}
