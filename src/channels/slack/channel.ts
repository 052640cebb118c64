import { config } from "../../config";
import { findIntegration } from "../../db/integrations";
import { pruneEventsStatement, slackFailureStatement } from "../../db/slack";
import type { Channel } from "../../delivery/channel";
import { appIntegrations } from "../../integrations/cache";
import type { Sent } from "../../delivery/channel";
import { slackPostJob, type SlackDestination, type SlackEventJob, type SlackJob } from "./jobs";
import { postToThread, type SlackIntegration } from "./outbound";

/** What makes an answer from Slack a message of its conversation (src/slack-replies/). */
export type SlackAnswerer = (env: Env, integration: SlackIntegration, job: SlackEventJob) => Promise<Sent>;

let answerer: SlackAnswerer | null = null;

/**
 * Wires what answers the events (the worker's entry does): posting a message depends on the
 * conversation module, which depends on the channels, so this one cannot import it.
 */
export function answerSlackEventsWith(answer: SlackAnswerer): void {
  answerer = answer;
}

/** After this long a batch starts no further job; the rest go back to the queue untried. */
const BATCH_BUDGET_MS = 30_000;
/** Event records older than a day are pruned: Slack's retries of an event end within the hour. */
const EVENT_RECORD_MS = 86_400_000;

/**
 * The Slack channel: each stored message of a conversation (but those written in Slack) is
 * copied into the conversation's thread in the app's Slack channel, and each answer from a thread
 * (taken at the events endpoint) becomes an appMaker message. Jobs of one conversation share an
 * ordered lane, so they go one after another in the order their messages were stored, a retried
 * one included (later ones wait behind it).
 */
export const slackChannel: Channel<SlackJob, SlackDestination> = {
  kind: "slack",
  queue: (env) => env.SLACK,
  queueName: "parley-slack",
  deadLetterQueueName: "parley-slack-dlq",

  async destinationFor(env, user, occasion) {
    if (occasion.kind !== "messages") return undefined;
    const slack = (await appIntegrations(env, user.appId)).find((integration) => integration.type === "slack");
    return slack && { appId: user.appId, appUserId: user.id, conversationId: user.conversationId, integrationId: slack.id };
  },
  handOver: (destination, to) => ({ ...destination, appUserId: to.toAuthorId, conversationId: to.conversationId }),

  jobsFor(event, destination) {
    const job = event.kind === "message" && slackPostJob(destination, event.message);
    return job ? [job] : [];
  },

  lane: (job) => (job.kind === "post" ? job.conversationId : job.event.threadTs),
  ordered: true,
  budgetMs: () => BATCH_BUDGET_MS,
  retryBaseSeconds: (env) => config(env).slack.retryBaseSeconds,

  async send(env, job, attempt) {
    const integration = await findIntegration(env.DB, job.appId, job.integrationId);
    // Deleted (with the app, or replaced): its threads went with it.
    if (integration?.type !== "slack") return { result: "done" };
    if (job.kind === "post") return postToThread(env, integration, job, attempt.number);
    if (!answerer) throw new Error("slack: no answerer wired (src/index.ts)");
    return answerer(env, integration, job);
  },

  deadLetterRecords(env, job) {
    console.error(`slack ${job.kind} of ${job.messageId} gave up after its last retry`);
    return job.kind === "post" ? [slackFailureStatement(env.DB, job.integrationId, job.messageId, "out of retries")] : [];
  },

  afterBatch: (env) => [pruneEventsStatement(env.DB, Date.now() - EVENT_RECORD_MS)],
};
