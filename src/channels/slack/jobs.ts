import type { Job } from "../../delivery/channel";
import type { ConversationMessage } from "../../model/message";

/** Where a conversation's messages go in Slack: the app's Slack integration, for this user's conversation. */
export interface SlackDestination {
  appId: string;
  appUserId: string;
  conversationId: string;
  integrationId: string;
}

/** The most text a job carries: Slack cuts a message at 40,000 characters; a thread needs far less. */
export const SLACK_TEXT_MAX = 4000;

/** A message of the conversation to copy into its thread. */
export type SlackPostJob = Job &
  SlackDestination & {
    kind: "post";
    role: ConversationMessage["role"];
    name: string | null;
    text: string;
    mediaUrl: string | null;
  };

/** What Parley keeps of a Slack message event: enough to answer in the conversation. */
export interface SlackMessageEvent {
  user: string;
  text: string;
  ts: string;
  threadTs: string;
  files: Array<{ id: string; mimetype: string; urlPrivate: string; name: string }>;
}

/**
 * An Events API delivery taken at the events endpoint, answered on the queue so that a crash after
 * Slack's acknowledgement loses nothing. `messageId` is the message it becomes (derived from the
 * event_id, so a retried job finds it already stored).
 */
export type SlackEventJob = Job & {
  kind: "event";
  appId: string;
  integrationId: string;
  event: SlackMessageEvent;
  /** The origin the event came to: an image's media URL is built on it when PUBLIC_URL is empty. */
  origin: string;
};

export type SlackJob = SlackPostJob | SlackEventJob;

/** Messages Slack wrote (answers from the thread) are not copied back into it. */
export const SLACK_SOURCE = { type: "slack" } as const;

/** The job copying a stored message into the thread; none for what came from Slack itself. */
export function slackPostJob(destination: SlackDestination, message: ConversationMessage): SlackPostJob | null {
  if (message.source.type === SLACK_SOURCE.type) return null;
  return {
    kind: "post",
    ...destination,
    messageId: message._id,
    role: message.role,
    name: message.name ?? null,
    text: message.text.slice(0, SLACK_TEXT_MAX),
    mediaUrl: message.mediaUrl ?? null,
  };
}
