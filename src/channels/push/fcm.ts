import { config } from "../../config";
import type { IntegrationOf } from "../../db/integrations";
import { accessToken, forgetAccessToken } from "./google-token";
import { errorCodes, outcomeOf, postTo, retry, type PushOutcome } from "./outcome";
import { apnsCollapse, webPushTopic, type Notification } from "./payload";

/** FCM HTTP v1's message: the notification, its data, and the block for the device's platform. */
function messageOf(token: string, platform: string, notification: Notification) {
  const shown = { title: notification.title, ...(notification.body === null ? {} : { body: notification.body }) };
  return {
    message: {
      token,
      notification: shown,
      data: notification.data,
      ...(platform === "android"
        ? { android: { priority: "high", collapse_key: notification.collapseId, notification: { sound: "default" } } }
        : {}),
      ...(platform === "ios"
        ? { apns: { headers: { "apns-priority": "10", ...apnsCollapse(notification) }, payload: { aps: { sound: "default" } } } }
        : {}),
      ...(platform === "web" ? { webpush: { headers: { Urgency: "high", ...webPushTopic(notification) } } } : {}),
    },
  };
}

/** One push through Firebase Cloud Messaging's HTTP v1 API. */
export async function sendFcm(
  env: Env,
  fcm: IntegrationOf<"fcm">,
  platform: string,
  token: string,
  notification: Notification,
): Promise<PushOutcome> {
  const access = await accessToken(env, fcm);
  if ("outcome" in access) return access.outcome;
  const url = `${config(env).push.fcmApiUrl}/v1/projects/${encodeURIComponent(fcm.public.projectId)}/messages:send`;
  const response = await postTo("FCM", url, {
    headers: { authorization: `Bearer ${access.token}`, "content-type": "application/json" },
    body: JSON.stringify(messageOf(token, platform, notification)),
  });
  if (!(response instanceof Response)) return response;
  const codes = await errorCodes(response);
  const reason = `FCM answered ${response.status}${codes.length ? ` ${codes.join(" ")}` : ""}`;
  if (response.status === 401) {
    // An access token revoked or expired early: the next attempt asks for a new one.
    forgetAccessToken(fcm.id);
    return retry(reason, 401);
  }
  const dead = response.status === 404 || response.status === 410 || codes.includes("UNREGISTERED");
  return outcomeOf(response, reason, dead);
}
