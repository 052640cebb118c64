import type { Job } from "../../delivery/channel";
import type { PushMessage } from "./send";

/** Whom a conversation's appMaker messages are pushed to: its app user (after a merge, the survivor's). */
export interface PushRecipient {
  appId: string;
  appUserId: string;
  conversationId: string;
}

/**
 * What goes on the PUSH queue. A stored appMaker message writes one `message` job in its
 * conversation's outbox transaction; the consumer fans it out to one `device` job per device
 * that should get it, each sent and settled on its own. Flat, so that `messageId` sits where the
 * outbox and the erasure checks look for it.
 */
export type PushJob = PushMessage & Job & ({ kind: "message" } | { kind: "device"; deviceId: string });
export type DevicePushJob = Extract<PushJob, { kind: "device" }>;

/** The most text a job carries: a notification shows a few lines, and providers cap payloads at 4 KB. */
export const PUSH_TEXT_MAX = 1000;

/** What a stored message says about itself, as far as a push needs it. */
interface PushedMessage {
  _id: string;
  role: string;
  type: string;
  text: string;
  name?: string;
  mediaUrl?: string;
}

/**
 * The push job of a stored message: appMaker messages only (the business answering). An image's
 * text is its URL unless the business wrote one: then the push says it is an image, not the URL.
 */
export function messagePushJob(recipient: PushRecipient, message: PushedMessage): PushJob | null {
  if (message.role !== "appMaker") return null;
  const text = message.text && message.text !== message.mediaUrl ? message.text.slice(0, PUSH_TEXT_MAX) : null;
  return {
    kind: "message",
    ...recipient,
    messageId: message._id,
    text,
    mediaType: message.type === "text" ? null : message.type,
    authorName: message.name ?? null,
  };
}

/** A message job's copy for one device, with attempts of its own. */
export const devicePushJob = (job: PushJob, deviceId: string): DevicePushJob => ({ ...pushedMessage(job), kind: "device", deviceId });

/** The message a job pushes, without the job's own fields. */
export function pushedMessage(job: PushJob): PushMessage {
  const { appId, appUserId, conversationId, messageId, text, mediaType, authorName } = job;
  return { appId, appUserId, conversationId, messageId, text, mediaType, authorName };
}
