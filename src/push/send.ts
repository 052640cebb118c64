/**
 * The one door between push delivery (the queue consumer, part B) and the push channels: a
 * device's platform and token plus one message in, the provider's verdict out. Secrets never
 * appear in an outcome's reason.
 */

/** What is pushed to one device about one message. */
export interface PushMessage {
  appId: string;
  appUserId: string;
  conversationId: string;
  messageId: string;
  /** The message text; null for none. */
  text: string | null;
  /** The media kind ("image", "file", ...) of a media message; null for none. */
  mediaType: string | null;
  authorName: string | null;
}

/** The device's platform and its pushNotificationToken. */
export interface PushTarget {
  platform: string;
  token: string;
}

export type PushOutcome =
  | { outcome: "sent"; status: number }
  | { outcome: "retry"; status: number | null; retryAfterSeconds: number | null; reason: string }
  /** The provider says the token is dead: clear it from its device. */
  | { outcome: "invalid-token"; status: number; reason: string }
  /** Permanent, not the token's fault (bad credentials, no channel for the device, ...). */
  | { outcome: "failed"; status: number | null; reason: string };

/** Sends one push through the app's channel for this device. */
export async function sendPush(_env: Env, _target: PushTarget, _message: PushMessage): Promise<PushOutcome> {
  return { outcome: "failed", status: null, reason: "push channels are not implemented yet" };
}

/** Whether the app has a channel that can reach this device: devices without one need no job. */
export async function hasPushChannel(_env: Env, _appId: string, _platform: string, _token: string): Promise<boolean> {
  return false;
}
