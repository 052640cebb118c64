import { findAppUser } from "../../db/app-users";
import { devicesOfUser } from "../../db/devices";
import { integrationErrorStatement, type IntegrationOf } from "../../db/integrations";
import {
  claimThread,
  openThread,
  postedTs,
  recordPost,
  releaseThreadClaim,
  slackFailureStatement,
  threadOfConversation,
  type SlackThread,
} from "../../db/slack";
import type { Sent } from "../../delivery/channel";
import { BROKEN_INTEGRATION, findOwnMessage, slackCall, type SlackMetadata, type SlackResult } from "./api";
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

/** A claim older than this is taken for a dead worker's: the next job may open the thread instead. */
const CLAIM_STALE_MS = 30_000;
/** A job that finds another's fresh claim tries again this soon: its parent is posted by then, as a rule. */
const CLAIM_WAIT_SECONDS = 2;

const WAIT_FOR_OPENING: Opened = { sent: { result: "retry", retryAfterSeconds: CLAIM_WAIT_SECONDS } };
const NOTHING_TO_DO: Opened = { sent: { result: "done" } };

/** The thread as it stands after someone else's claim won: open, being opened (wait), or gone with its user or integration. */
async function othersThread(env: Env, integrationId: string, conversationId: string): Promise<Opened> {
  const state = await threadOfConversation(env.DB, integrationId, conversationId);
  if (!state) return NOTHING_TO_DO;
  return "open" in state ? { thread: state.open } : WAIT_FOR_OPENING;
}

/**
 * The conversation's thread in this integration, opened with its parent message if it has none.
 * Two jobs of a conversation may get here at once (batches side by side, a job replayed after a
 * crash), so the opener first claims the thread's row (INSERT ... ON CONFLICT): only the claim's
 * holder posts a parent; the others retry shortly and find the thread open. A claim whose holder
 * died (no parent ts after 30 s) is taken over; the taker first looks in the channel for the
 * parent the dead holder may have posted (found by its metadata), and posts one only if none shows.
 */
async function threadFor(env: Env, integration: SlackIntegration, job: SlackPostJob): Promise<Opened> {
  const known = await threadOfConversation(env.DB, integration.id, job.conversationId);
  if (known && "open" in known) return { thread: known.open };
  const now = Date.now();
  if (known && known.claimedAt >= now - CLAIM_STALE_MS) return WAIT_FOR_OPENING;
  const user = await findAppUser(env.DB, job.appUserId);
  // Deleted since: nothing more of theirs goes to Slack.
  if (!user) return NOTHING_TO_DO;
  const claim = { integrationId: integration.id, conversationId: job.conversationId, appUserId: user.id, threadTs: `opening:${crypto.randomUUID()}` };
  if (!(await claimThread(env.DB, claim, now, now - CLAIM_STALE_MS))) return othersThread(env, integration.id, job.conversationId);
  const metadata: SlackMetadata = { event_type: "parley_thread", event_payload: { conversationId: job.conversationId } };
  const channel = integration.public.channelId;
  // A claim taken over: its holder may have posted the parent before it died.
  const orphan = known && (await findOwnMessage(env, integration.secret.botToken, { channel, oldest: String(Math.floor(known.claimedAt / 1000)) }, metadata));
  if (orphan) return opened(env, job, { ...claim, threadTs: orphan }, claim.threadTs);
  const devices = await devicesOfUser(env.DB, user.appId, user.id, MAX_DEVICES);
  const parent = await slackCall<{ ts: string }>(env, integration.secret.botToken, "chat.postMessage", {
    channel,
    text: parentText(user, devices),
    unfurl_links: false,
    metadata,
  });
  if (!parent.ok) {
    // Slack answered, so it posted nothing: the next job need not wait for the claim to go stale.
    if (parent.status !== null) await releaseThreadClaim(env.DB, claim);
    return { sent: refused(env, job, parent) };
  }
  return opened(env, job, { ...claim, threadTs: parent.value.ts }, claim.threadTs);
}

/** Records the thread its parent opened, if the claim is still this job's; else the thread as it now stands. */
async function opened(env: Env, job: SlackPostJob, thread: SlackThread, claim: string): Promise<Opened> {
  if (await openThread(env.DB, thread, claim)) return { thread };
  console.error(`slack: the parent ${thread.threadTs} of conversation ${job.conversationId} lost its claim (taken over, or the user gone)`);
  return othersThread(env, thread.integrationId, job.conversationId);
}

/**
 * Copies one message into its conversation's thread, once: the Slack message's ts is stored as
 * soon as Slack answers, before the job is acknowledged, and a retried job that finds it posts
 * nothing again. A job on a later attempt also looks in the thread first (by the message's
 * metadata): an earlier attempt may have posted and died, or lost Slack's answer, before the ts
 * was stored.
 */
export async function postToThread(env: Env, integration: SlackIntegration, job: SlackPostJob, attempt: number): Promise<Sent> {
  if (await postedTs(env.DB, integration.id, job.messageId)) return { result: "done" };
  const thread = await threadFor(env, integration, job);
  if ("sent" in thread) return thread.sent;
  const token = integration.secret.botToken;
  const channel = integration.public.channelId;
  const metadata: SlackMetadata = { event_type: "parley_message", event_payload: { messageId: job.messageId } };
  const earlier = attempt > 1 && (await findOwnMessage(env, token, { channel, thread: thread.thread.threadTs }, metadata));
  if (earlier) {
    await recordPost(env.DB, thread.thread, job.messageId, earlier);
    return { result: "done" };
  }
  const posted = await slackCall<{ ts: string }>(env, token, "chat.postMessage", {
    channel,
    thread_ts: thread.thread.threadTs,
    unfurl_links: false,
    metadata,
    ...postBody(job),
  });
  if (!posted.ok) return refused(env, job, posted);
  await recordPost(env.DB, thread.thread, job.messageId, posted.value.ts);
  return { result: "done" };
}
