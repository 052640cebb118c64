import { findAppUser } from "../../db/app-users";
import { devicesOfUser } from "../../db/devices";
import { integrationErrorStatement, type IntegrationOf } from "../../db/integrations";
import { insertThread, postedTs, recordPost, slackFailureStatement, threadOfConversation, type SlackThread } from "../../db/slack";
import type { Sent } from "../../delivery/channel";
import { BROKEN_INTEGRATION, slackCall, type SlackResult } from "./api";
import type { SlackPostJob } from "./jobs";
import { escapeForSlack } from "./markup";
import { parentText } from "./parent";

export type SlackIntegration = IntegrationOf<"slack">;

/** The devices a thread's opening message lists: the most recent ones. */
const MAX_DEVICES = 10;

/** The message as it reads in the thread: the business's answers from elsewhere say who wrote them. */
function postBody(job: SlackPostJob): Record<string, unknown> {
  const text = job.mediaUrl && job.text === job.mediaUrl ? "" : escapeForSlack(job.text);
  const byline = job.role === "appMaker" ? `*${escapeForSlack(job.name ?? "The business")}* (answered outside Slack): ` : "";
  const body: Record<string, unknown> = { text: `${byline}${text || (job.mediaUrl ? "(image)" : "")}` };
  // An image block of the public mediaUrl: Slack fetches and shows it; nothing is uploaded twice.
  if (job.mediaUrl) {
    body.blocks = [
      ...(byline || text ? [{ type: "section", text: { type: "mrkdwn", text: `${byline}${text}` || " " } }] : []),
      { type: "image", image_url: job.mediaUrl, alt_text: "image" },
    ];
  }
  return body;
}

/** What a refused or failed call means for the job: retried, or ended with its reason recorded. */
function refused(env: Env, job: SlackPostJob, result: Extract<SlackResult<unknown>, { ok: false }>): Sent {
  if (result.retry) return { result: "retry", retryAfterSeconds: result.retryAfterSeconds };
  console.error(`slack post of message ${job.messageId} refused: ${result.error}`);
  const records = [slackFailureStatement(env.DB, job.integrationId, job.messageId, result.error)];
  if (BROKEN_INTEGRATION.has(result.error)) records.push(integrationErrorStatement(env.DB, job.integrationId, result.error));
  return { result: "failed", records };
}

type Opened = { thread: SlackThread } | { sent: Sent };

/**
 * The conversation's thread in this integration, opened with its parent message if it has none.
 * Jobs of one conversation run one at a time (its lane, on a queue with one consumer), so no
 * second parent is posted meanwhile.
 */
async function threadFor(env: Env, integration: SlackIntegration, job: SlackPostJob): Promise<Opened> {
  const known = await threadOfConversation(env.DB, integration.id, job.conversationId);
  if (known) return { thread: known };
  const user = await findAppUser(env.DB, job.appUserId);
  // Deleted since: nothing more of theirs goes to Slack.
  if (!user) return { sent: { result: "done" } };
  const devices = await devicesOfUser(env.DB, user.appId, user.id, MAX_DEVICES);
  const parent = await slackCall<{ ts: string }>(env, integration.secret.botToken, "chat.postMessage", {
    channel: integration.public.channelId,
    text: parentText(user, devices),
    unfurl_links: false,
  });
  if (!parent.ok) return { sent: refused(env, job, parent) };
  const thread = { integrationId: integration.id, conversationId: job.conversationId, appUserId: user.id, threadTs: parent.value.ts };
  if (!(await insertThread(env.DB, thread))) {
    // The user or the integration went meanwhile (or, were the queue's concurrency raised, another parent won).
    const winner = await threadOfConversation(env.DB, integration.id, job.conversationId);
    return winner ? { thread: winner } : { sent: { result: "done" } };
  }
  return { thread };
}

/**
 * Copies one message into its conversation's thread, once: the Slack message's ts is stored as
 * soon as Slack answers, before the job is acknowledged, and a retried job that finds it posts
 * nothing again.
 */
export async function postToThread(env: Env, integration: SlackIntegration, job: SlackPostJob): Promise<Sent> {
  if (await postedTs(env.DB, integration.id, job.messageId)) return { result: "done" };
  const opened = await threadFor(env, integration, job);
  if ("sent" in opened) return opened.sent;
  const posted = await slackCall<{ ts: string }>(env, integration.secret.botToken, "chat.postMessage", {
    channel: integration.public.channelId,
    thread_ts: opened.thread.threadTs,
    unfurl_links: false,
    metadata: { event_type: "parley_message", event_payload: { messageId: job.messageId } },
    ...postBody(job),
  });
  if (!posted.ok) return refused(env, job, posted);
  await recordPost(env.DB, opened.thread, job.messageId, posted.value.ts);
  return { result: "done" };
}
