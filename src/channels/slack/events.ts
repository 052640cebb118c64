import { z } from "zod";
import { findIntegrationById } from "../../db/integrations";
import { eventTaken, recordEvent } from "../../db/slack";
import { badRequest, notFound, unauthorized } from "../../errors";
import { toHex } from "../../lib/hex";
import type { SlackEventJob, SlackMessageEvent } from "./jobs";
import type { SlackIntegration } from "./outbound";
import { isSlackSigned } from "./signature";

const file = z.object({ id: z.string(), mimetype: z.string().default(""), url_private: z.string().url().optional(), name: z.string().default("") });

const messageEvent = z.object({
  type: z.string(),
  subtype: z.string().optional(),
  bot_id: z.string().optional(),
  user: z.string().optional(),
  text: z.string().default(""),
  ts: z.string(),
  thread_ts: z.string().optional(),
  channel: z.string().optional(),
  files: z.array(file).max(20).default([]),
});

/** What Slack posts: the URL check, an event, or other types Parley has nothing to do with. */
export const slackEnvelope = z.discriminatedUnion("type", [
  z.object({ type: z.literal("url_verification"), challenge: z.string().max(500) }),
  z.object({ type: z.literal("event_callback"), event_id: z.string().min(1).max(100), event: z.looseObject({ type: z.string() }) }),
  z.object({ type: z.literal("app_rate_limited") }),
]).meta({ id: "SlackEvent", description: "A Slack Events API request, as Slack sends it." });

/** A message subtype that is still a person's answer: one with files attached. */
const ANSWER_SUBTYPES = new Set([undefined, "file_share"]);
const NOTE = /^\s*note:/i;

/**
 * The message event as an answer to take, or null for what changes nothing: bot messages
 * (Parley's own included), edits and deletions (subtypes), messages outside a thread or in
 * another channel, and internal notes (`note:`).
 */
export function answerOf(integration: SlackIntegration, raw: unknown): SlackMessageEvent | null {
  const parsed = messageEvent.safeParse(raw);
  if (!parsed.success) return null;
  const event = parsed.data;
  if (event.type !== "message" || !ANSWER_SUBTYPES.has(event.subtype) || event.bot_id || !event.user) return null;
  if (event.user === integration.public.botUserId || event.channel !== integration.public.channelId) return null;
  if (!event.thread_ts || event.thread_ts === event.ts || NOTE.test(event.text)) return null;
  return {
    user: event.user,
    text: event.text,
    ts: event.ts,
    threadTs: event.thread_ts,
    files: event.files.flatMap((f) => (f.url_private ? [{ id: f.id, mimetype: f.mimetype, urlPrivate: f.url_private, name: f.name }] : [])),
  };
}

/** The message an event becomes, named by its event_id: a duplicate job finds its message stored. */
async function messageIdOf(integrationId: string, eventId: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${integrationId}:${eventId}`));
  return toHex(digest).slice(0, 24);
}

export interface SlackRequest {
  integrationId: string;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: string;
  origin: string;
}

/**
 * Takes an Events API request: verified with the integration's signing secret before anything
 * is read from it; a URL check is answered with its challenge; an answer in a conversation's
 * thread is put on the Slack queue (the work happens there, after Slack's acknowledgement, and a
 * crash after it loses nothing) unless its event_id was taken before.
 */
export async function takeSlackRequest(env: Env, request: SlackRequest): Promise<{ challenge?: string }> {
  const integration = await findIntegrationById(env.DB, request.integrationId);
  if (!integration || integration.type !== "slack") throw notFound(`integrationId: no Slack integration '${request.integrationId}'`);
  if (!(await isSlackSigned(integration.secret.signingSecret, request, request.rawBody))) {
    throw unauthorized("X-Slack-Signature: not signed with this integration's signing secret within the last 5 minutes");
  }
  let body: unknown;
  try {
    body = JSON.parse(request.rawBody);
  } catch {
    throw badRequest("body: not JSON");
  }
  const parsed = slackEnvelope.safeParse(body);
  if (!parsed.success) throw badRequest(`body: not a Slack Events API request (${parsed.error.issues[0].path.join(".") || "type"})`);
  const payload = parsed.data;
  if (payload.type === "url_verification") return { challenge: payload.challenge };
  if (payload.type !== "event_callback") return {};
  const answer = answerOf(integration, payload.event);
  if (!answer || (await eventTaken(env.DB, integration.id, payload.event_id))) return {};
  const job: SlackEventJob = {
    kind: "event",
    messageId: await messageIdOf(integration.id, payload.event_id),
    appId: integration.appId,
    integrationId: integration.id,
    event: answer,
    origin: request.origin,
  };
  // Queued before it is recorded: a crash between the two leaves Slack's retry to queue it again,
  // and the job's message _id makes the second one store nothing.
  await env.SLACK.send(job, { contentType: "json" });
  await recordEvent(env.DB, integration.id, payload.event_id);
  return {};
}
