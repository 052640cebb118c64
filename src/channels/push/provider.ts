import type { Integration, IntegrationOf } from "../../db/integrations";
import { isApnsDeviceToken } from "./apns";
import { subscriptionOf, type Subscription } from "./webpush";

export type Channel =
  | { type: "fcm"; integration: IntegrationOf<"fcm"> }
  | { type: "apn"; integration: IntegrationOf<"apn"> }
  | { type: "webpush"; integration: IntegrationOf<"webpush">; subscription: Subscription };

const ofType = <T extends Integration["type"]>(integrations: Integration[], type: T) =>
  integrations.find((integration): integration is IntegrationOf<T> => integration.type === type);

/**
 * The channel that reaches a token, told by the token's shape whatever the platform says: a
 * PushSubscription's JSON goes through Web Push, 64 hex digits (an APNs device token) through
 * apn, anything else is an FCM registration token (Android, and iOS apps that register with
 * Firebase). Null when the app has no such channel.
 */
export function channelFor(integrations: Integration[], token: string): Channel | null {
  const subscription = subscriptionOf(token);
  if (subscription) {
    const integration = ofType(integrations, "webpush");
    return integration ? { type: "webpush", integration, subscription } : null;
  }
  if (token.trimStart().startsWith("{")) return null;
  if (isApnsDeviceToken(token)) {
    const integration = ofType(integrations, "apn");
    return integration ? { type: "apn", integration } : null;
  }
  const integration = ofType(integrations, "fcm");
  return integration ? { type: "fcm", integration } : null;
}
