/**
 * The one door between push delivery (the queue consumer) and the push channels: a device's
 * platform and token plus one message in, the provider's verdict out. Secrets never appear in
 * an outcome's reason.
 */
import { cachedApp } from "../../auth/lookup";
import { appIntegrations } from "../../integrations/cache";
import { isRefusedTarget } from "../../outbound/private-host";
import { sendApns } from "./apns";
import { channelFor } from "./provider";
import { sendFcm } from "./fcm";
import { failed, type PushOutcome } from "./outcome";
import { notificationOf, type PushMessage } from "./payload";
import { sendWebPush } from "./webpush";

export type { PushOutcome } from "./outcome";
export type { PushMessage } from "./payload";

/** The device's platform and its pushNotificationToken. */
export interface PushTarget {
  platform: string;
  token: string;
}

/** Sends one push through the app's channel for this device. */
export async function sendPush(env: Env, target: PushTarget, message: PushMessage): Promise<PushOutcome> {
  const [app, integrations] = await Promise.all([cachedApp(env, message.appId), appIntegrations(env, message.appId)]);
  if (!app) return failed("the app no longer exists");
  const channel = channelFor(integrations, target.token);
  if (!channel) return failed(`the app has no push channel for this ${target.platform} device's token`);
  const notification = notificationOf(app, message);
  switch (channel.type) {
    case "fcm":
      return sendFcm(env, channel.integration, target.platform, target.token, notification);
    case "apn":
      return sendApns(env, channel.integration, target.token, notification);
    case "webpush":
      return sendWebPush(env, channel.integration, channel.subscription, notification);
  }
}

/** Whether the app has a channel that can reach this device: devices without one need no job. */
export async function hasPushChannel(env: Env, appId: string, _platform: string, token: string): Promise<boolean> {
  const channel = channelFor(await appIntegrations(env, appId), token);
  return channel !== null && !(channel.type === "webpush" && isRefusedTarget(env, channel.subscription.endpoint));
}
