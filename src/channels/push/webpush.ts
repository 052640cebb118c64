import { base64url, importJWK, SignJWT } from "jose";
import { config } from "../../config";
import type { IntegrationOf } from "../../db/integrations";
import { isRefusedTarget } from "../../outbound/private-host";
import { encrypt } from "./aes128gcm";
import { failed, outcomeOf, postTo, type PushOutcome } from "./outcome";
import { webPushTopic, type Notification } from "./payload";

/** How long a push service keeps a message for an offline browser: a day-old chat alert is stale. */
const TTL_SECONDS = 24 * 60 * 60;
/** VAPID tokens live 12 hours: RFC 8292 allows at most 24. */
const VAPID_SECONDS = 12 * 60 * 60;

/** A browser's PushSubscription, as its JSON is registered as the device's token. */
export interface Subscription {
  endpoint: string;
  p256dh: Uint8Array;
  auth: Uint8Array;
}

const decode = (value: unknown): Uint8Array | null => {
  if (typeof value !== "string") return null;
  try {
    return base64url.decode(value.replace(/=+$/, ""));
  } catch {
    return null;
  }
};

type SubscriptionJson = { endpoint?: unknown; keys?: { p256dh?: unknown; auth?: unknown } };

/** A token's JSON when it is a JSON object, as a PushSubscription's is; null for any other token. */
function jsonOf(token: string): SubscriptionJson | null {
  if (!token.trimStart().startsWith("{")) return null;
  try {
    return JSON.parse(token);
  } catch {
    return null;
  }
}

const endpointOf = (parsed: SubscriptionJson | null) =>
  typeof parsed?.endpoint === "string" && URL.canParse(parsed.endpoint) ? new URL(parsed.endpoint) : null;

/**
 * Whether a token is a PushSubscription whose endpoint is not `https:`: refused at registration,
 * since a push service is reached over HTTPS only (RFC 8030 §5) and the message would otherwise
 * cross the network readable in its headers and open to tampering.
 */
export function isInsecureSubscription(token: string): boolean {
  const endpoint = endpointOf(jsonOf(token));
  return endpoint !== null && endpoint.protocol !== "https:";
}

/** The subscription a token holds, or null when it holds none (then it is not a Web Push token). */
export function subscriptionOf(token: string): Subscription | null {
  const parsed = jsonOf(token);
  const endpoint = endpointOf(parsed);
  const p256dh = decode(parsed?.keys?.p256dh);
  const auth = decode(parsed?.keys?.auth);
  if (endpoint?.protocol !== "https:" || p256dh?.length !== 65 || p256dh[0] !== 4 || auth?.length !== 16) return null;
  return { endpoint: endpoint.href, p256dh, auth };
}

/** The VAPID Authorization header (RFC 8292): a JWT for the endpoint's origin, and the public key. */
async function vapid(env: Env, webpush: IntegrationOf<"webpush">, endpoint: string): Promise<string> {
  const key = await importJWK({ ...webpush.secret.vapidPrivateKey, alg: "ES256" }, "ES256");
  const subject = config(env).push.vapidSubject;
  const jwt = await new SignJWT(subject ? { sub: subject } : {})
    .setProtectedHeader({ typ: "JWT", alg: "ES256" })
    .setAudience(new URL(endpoint).origin)
    .setExpirationTime(Math.floor(Date.now() / 1000) + VAPID_SECONDS)
    .sign(key);
  return `vapid t=${jwt}, k=${webpush.public.vapidPublicKey}`;
}

/** One push to a browser through its push service. */
export async function sendWebPush(
  env: Env,
  webpush: IntegrationOf<"webpush">,
  subscription: Subscription,
  notification: Notification,
): Promise<PushOutcome> {
  if (isRefusedTarget(env, subscription.endpoint)) return failed("the subscription's endpoint is on a private network");
  const { title, body, data } = notification;
  const payload = new TextEncoder().encode(JSON.stringify({ title, body, data }));
  const response = await postTo("the push service", subscription.endpoint, {
    headers: {
      authorization: await vapid(env, webpush, subscription.endpoint),
      "content-encoding": "aes128gcm",
      "content-type": "application/octet-stream",
      ttl: String(TTL_SECONDS),
      urgency: "high",
      ...webPushTopic(notification),
    },
    body: await encrypt(payload, subscription.p256dh, subscription.auth),
  });
  if (!(response instanceof Response)) return response;
  // The push service's body is of no interest; release the connection.
  await response.body?.cancel();
  const dead = response.status === 404 || response.status === 410;
  return outcomeOf(response, `the push service answered ${response.status}`, dead);
}
