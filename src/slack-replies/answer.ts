import { config } from "../config";
import { composeMessage } from "../conversation/compose";
import { postMessages } from "../conversation/post";
import { findAppUser } from "../db/app-users";
import { threadOfTs } from "../db/slack";
import type { Sent } from "../delivery/channel";
import { TtlCache } from "../lib/ttl-cache";
import { newId } from "../lib/ids";
import { SNIFF_BYTES, sniffImage } from "../media/sniff";
import { userProfile, type SlackProfile } from "../channels/slack/api";
import { SLACK_SOURCE, type SlackEventJob, type SlackMessageEvent } from "../channels/slack/jobs";
import { mentionedUsers, plainText } from "../channels/slack/markup";
import type { SlackIntegration } from "../channels/slack/outbound";

/** A Slack user's name and picture, per integration, for ten minutes: every answer names its author. */
const profiles = new TtlCache<SlackProfile>();
const PROFILE_SECONDS = 600;
/** Mentions looked up by name in one answer; others stay as their user ID. */
const MAX_MENTIONS = 5;

async function profileOf(env: Env, integration: SlackIntegration, userId: string): Promise<SlackProfile> {
  const key = `${integration.id}/${userId}`;
  const cached = profiles.peek(key);
  if (cached) return cached.value;
  const found = await userProfile(env, integration.secret.botToken, userId);
  // Slack could not say: the answer still goes through, under the user's ID, and is not cached.
  if (!found.ok) return { name: userId, avatarUrl: undefined };
  profiles.set(key, found.value, PROFILE_SECONDS);
  return found.value;
}

/**
 * The first image the Slack user attached, fetched with the bot token (Slack's files are private)
 * and stored in R2 like an upload; null when there is none, or it is too large or not an image.
 */
async function storedImage(env: Env, integration: SlackIntegration, job: SlackEventJob, origin: string) {
  const file = job.event.files.find((candidate) => candidate.mimetype.startsWith("image/"));
  if (!file) return null;
  const response = await fetch(file.urlPrivate, { headers: { authorization: `Bearer ${integration.secret.botToken}` } });
  if (!response.ok) {
    await response.body?.cancel();
    if (response.status >= 500 || response.status === 429) throw new Error(`slack file ${file.id}: http ${response.status}`);
    return null;
  }
  const maxBytes = config(env).mediaMaxBytes;
  if (Number(response.headers.get("content-length") ?? 0) > maxBytes) {
    await response.body?.cancel();
    return null;
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  const image = sniffImage(bytes.slice(0, SNIFF_BYTES));
  if (!image || bytes.length > maxBytes) return null;
  const key = `${newId()}${newId()}.${image.extension}`;
  await env.MEDIA.put(key, bytes, { httpMetadata: { contentType: image.mediaType }, customMetadata: { appId: job.appId } });
  return { mediaUrl: `${config(env).publicUrl ?? origin}/v1/media/${key}`, mediaType: image.mediaType };
}

/** The conversation's store refuses a message _id it holds: the job's message is in already. */
const alreadyStored = (error: unknown) => error instanceof Error && /UNIQUE constraint failed: messages\.id/.test(error.message);

/**
 * A team member's answer in a conversation's thread becomes an appMaker message there, through
 * the same path as any other (webhooks, pushes, realtime). Its `_id` is the job's, so a job retried
 * after the message was stored stores nothing more.
 */
export async function answerFromSlack(env: Env, integration: SlackIntegration, job: SlackEventJob): Promise<Sent> {
  const thread = await threadOfTs(env.DB, integration.id, job.event.threadTs);
  const user = thread && (await findAppUser(env.DB, thread.appUserId));
  if (!user || user.appId !== integration.appId) return { result: "done" };
  const event: SlackMessageEvent = job.event;
  const mentions = [...new Set(mentionedUsers(event.text))].slice(0, MAX_MENTIONS);
  const [author, ...mentioned] = await Promise.all([event.user, ...mentions].map((id) => profileOf(env, integration, id)));
  const names = new Map(mentions.map((id, i) => [id, mentioned[i].name]));
  const text = plainText(event.text, names).trim();
  const image = await storedImage(env, integration, job, job.origin);
  // A file that is not an image, and no words: nothing the conversation can show.
  if (!text && !image) return { result: "done" };
  const message = await composeMessage(
    user,
    { role: "appMaker", text: text || undefined, name: author.name, avatarUrl: author.avatarUrl, ...image },
    SLACK_SOURCE,
  );
  try {
    await postMessages(env, user, [{ ...message, _id: job.messageId }]);
  } catch (error) {
    if (!alreadyStored(error)) throw error;
  }
  return { result: "done" };
}
