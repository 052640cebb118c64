import type { App } from "../../db/apps";

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

/** A notification as every channel shows it: title, body (none when the app hides message text) and data. */
export interface Notification {
  title: string;
  body: string | null;
  data: Record<string, string>;
  /**
   * The message's id, as each provider's collapse key: delivery is at least once, and a
   * duplicate then replaces the notification on the device instead of adding a second.
   */
  collapseId: string;
}

/** Bodies are cut well inside every provider's 4 KB payload, at a code point. */
const BODY_MAX = 500;

const MEDIA_WORDS: Record<string, string> = { image: "an image", file: "a file", video: "a video", audio: "an audio message" };

/**
 * Whether the app lets message text into pushes: yes unless its `pushMessageText` setting is
 * false. Pushes cross Google's, Apple's and browser vendors' services and show on lock screens.
 */
export const sendsMessageText = (app: App) => app.settings.pushMessageText !== false;

function bodyOf(message: PushMessage): string | null {
  if (message.text) {
    const points = Array.from(message.text);
    return points.length > BODY_MAX ? `${points.slice(0, BODY_MAX - 1).join("")}…` : message.text;
  }
  if (!message.mediaType) return null;
  const sent = `sent ${MEDIA_WORDS[message.mediaType] ?? "an attachment"}`;
  return message.authorName ? `${message.authorName} ${sent}` : sent;
}

/** APNs' collapse header: at most 64 bytes. */
export const apnsCollapse = (notification: Notification): Record<string, string> =>
  new TextEncoder().encode(notification.collapseId).length <= 64 ? { "apns-collapse-id": notification.collapseId } : {};

/** Web Push's Topic header (RFC 8030): at most 32 characters of URL-safe base64. */
export const webPushTopic = (notification: Notification): Record<string, string> =>
  /^[A-Za-z0-9_-]{1,32}$/.test(notification.collapseId) ? { Topic: notification.collapseId } : {};

export function notificationOf(app: App, message: PushMessage): Notification {
  return {
    title: app.name,
    body: sendsMessageText(app) ? bodyOf(message) : null,
    // smoochNotification: how the Smooch SDKs recognise their own pushes.
    data: { smoochNotification: "true", conversationId: message.conversationId, messageId: message.messageId },
    collapseId: message.messageId,
  };
}
