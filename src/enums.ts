/**
 * The contract's closed vocabularies, each declared once: zod schemas, row mappers and types
 * all derive from these lists.
 */

/** Who wrote a message: the app user, or the business ("app maker"). */
export const ROLES = ["appUser", "appMaker"] as const;
export type Role = (typeof ROLES)[number];

/** A device's platform, as init reports it. */
export const PLATFORMS = ["ios", "android", "web", "other"] as const;
export type Platform = (typeof PLATFORMS)[number];

/** An app's channels (integrations): push through Firebase Cloud Messaging, Apple's APNs, Web Push; Slack; email. */
export const INTEGRATION_TYPES = ["fcm", "apn", "webpush", "slack", "email"] as const;
export type IntegrationType = (typeof INTEGRATION_TYPES)[number];
/** The integrations that push to devices: the only ones a device hears of, and that make push jobs. */
export const PUSH_INTEGRATION_TYPES: readonly IntegrationType[] = ["fcm", "apn", "webpush"];

/** What a message shows: its text, or an image when it has a `mediaUrl`. */
export const MESSAGE_TYPES = ["text", "image"] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** Where a message came from: the platform of the device that sent it, "slack" for an answer from a Slack thread, or "api" for any other caller. */
export const SOURCE_TYPES = [...PLATFORMS, "api", "slack"] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];

/** The buttons an appMaker message may carry, as the Smooch clients render them. */
export const ACTION_TYPES = ["link", "webview", "postback", "reply", "locationRequest", "share", "buy"] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

/** Where a `buy` action stands. Parley takes no payments, so every buy action stays offered. */
export const ACTION_STATES = ["offered"] as const;
export type ActionState = (typeof ACTION_STATES)[number];

/** What the business may show an app user it is doing: typing, or no longer. */
export const ACTIVITY_TYPES = ["typing:start", "typing:stop"] as const;
export type ActivityType = (typeof ACTIVITY_TYPES)[number];

/**
 * What a webhook listens to: every message, only one role's messages, postbacks (an app user
 * pressed a postback button), reads (a side of the conversation marked it read), and the
 * business closing or reopening a conversation or changing who it is assigned to.
 */
export const TRIGGERS = [
  "message",
  "message:appUser",
  "message:appMaker",
  "postback",
  "conversation:read",
  "conversation:status",
  "conversation:assignee",
] as const;
export type Trigger = (typeof TRIGGERS)[number];

/** The trigger an event fires: any but `message`, which listens to both message triggers. */
export type EventTrigger = Exclude<Trigger, "message">;

/** The trigger a message fires, named by its author's role. */
export type MessageTrigger = Extract<Trigger, `message:${Role}`>;
export const messageTrigger = (role: Role): MessageTrigger => `message:${role}`;

/** Where the business stands with a conversation (the Desk's list shows open ones by default). */
export const CONVERSATION_STATUSES = ["open", "closed"] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];

/** Where a webhook delivery stands after its latest attempt. */
export const DELIVERY_OUTCOMES = ["retrying", "delivered", "failed"] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

/**
 * Where a push that did not go out at its first attempt stands (src/channels/push/): waiting for a retry,
 * sent after all, failed for good, or refused because its device's token is dead (then cleared).
 */
export const PUSH_OUTCOMES = ["retrying", "sent", "failed", "invalid-token"] as const;
export type PushOutcomeRecord = (typeof PUSH_OUTCOMES)[number];
