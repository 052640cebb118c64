import { config } from "../../config";
import type { AppUser } from "../../db/app-users";
import { resolveAppUser } from "../../db/app-users";
import { findApp } from "../../db/apps";
import { clearEmailFailureStatement, emailedDevices, emailFailureStatement, emailSentStatements, emailThread, replyTarget, wasEmailed } from "../../db/email";
import type { Channel, Job, Sent } from "../../delivery/channel";
import { appIntegrations } from "../../integrations/cache";
import { composeEmail, subjectOf, type EmailParts } from "./compose";
import { replyLocalPart } from "./token";

/** Whose conversation an appUser message is emailed from. */
export interface EmailRecipient {
  appId: string;
  appUserId: string;
}

/** One appUser message to email: what it says, so that the consumer needs no conversation call. */
export interface EmailJob extends Job, EmailRecipient {
  text: string;
  type: string;
  mediaUrl?: string;
  name?: string;
}

const BATCH_BUDGET_MS = 30_000;

const failure = (env: Env, job: EmailJob, attempts: number, lastError: string | null, outcome: "retrying" | "failed") =>
  emailFailureStatement(env.DB, { messageId: job.messageId, appId: job.appId, appUserId: job.appUserId, attempts, lastError, outcome }, Date.now());

/**
 * Emails one message, unless it was emailed already (the job delivered again) or there is no
 * one to email any more (user, app or integration deleted since): then it is done.
 */
async function emailMessage(env: Env, job: EmailJob, attempt: number): Promise<Sent> {
  const domain = config(env).emailDomain;
  if (!domain) return { result: "failed", records: [failure(env, job, 1, "EMAIL_DOMAIN is not configured", "failed")] };
  if (await wasEmailed(env.DB, job.messageId)) return { result: "done" };
  const [target, user, app, thread, devices] = await Promise.all([
    replyTarget(env.DB, job.appUserId),
    resolveAppUser(env.DB, job.appId, job.appUserId),
    findApp(env.DB, job.appId),
    emailThread(env.DB, job.appUserId),
    emailedDevices(env.DB, job.appId, job.appUserId),
  ]);
  if (!target || !user || !app) return { result: "done" };
  const parts: EmailParts = {
    domain,
    businessName: target.fromName ?? app.name,
    to: target.to,
    replyLocalPart: await replyLocalPart(target.tokenKey, job.appId, job.appUserId),
    user,
    message: job,
    thread,
    devices: thread ? [] : devices,
  };
  const { messageId } = await env.EMAIL.send(composeEmail(parts));
  return {
    result: "done",
    records: [
      ...emailSentStatements(env.DB, { messageId: job.messageId, appUserId: job.appUserId, emailMessageId: messageId, subject: subjectOf(parts) }, Date.now()),
      // Sent after all: its failure record would only mislead.
      ...(attempt > 1 ? [clearEmailFailureStatement(env.DB, job.messageId)] : []),
    ],
  };
}

/** Whether the app has an email integration (from the isolate cache) on a server with EMAIL_DOMAIN: otherwise a message pays nothing for email. */
async function recipientFor(env: Env, user: AppUser): Promise<EmailRecipient | undefined> {
  if (!config(env).emailDomain) return undefined;
  const integrations = await appIntegrations(env, user.appId);
  return integrations.some((integration) => integration.type === "email") ? { appId: user.appId, appUserId: user.id } : undefined;
}

/**
 * The email channel: each appUser message becomes one email to the app's email integration's
 * addresses. Jobs of one conversation share an ordered lane, so they go out one after another in
 * the order the conversation stored them, a retried one included (later ones wait behind it). The email's record is written before the job is
 * acknowledged: a job delivered again sends nothing (see the README's Email section for the one
 * window where a copy can go out twice).
 */
export const emailChannel: Channel<EmailJob, EmailRecipient> = {
  kind: "email",
  queue: (env) => env.EMAIL_QUEUE,
  queueName: "parley-email",
  deadLetterQueueName: "parley-email-dlq",

  // Only the user's messages are emailed: the business's own (its email replies among them) are not sent back.
  destinationFor: (env, user, occasion) =>
    occasion.kind === "messages" && occasion.roles.includes("appUser") ? recipientFor(env, user) : Promise.resolve(undefined),
  handOver: (recipient, to) => ({ ...recipient, appUserId: to.toAuthorId }),

  jobsFor(event, recipient) {
    if (event.kind !== "message" || event.message.role !== "appUser") return [];
    const { _id, text, type, mediaUrl, name } = event.message;
    return [{ ...recipient, messageId: _id, text, type, mediaUrl, name }];
  },

  lane: (job) => job.appUserId,
  ordered: true,
  budgetMs: () => BATCH_BUDGET_MS,
  retryBaseSeconds: (env) => config(env).emailRetryBaseSeconds,
  send: (env, job, attempt) => emailMessage(env, job, attempt.number),

  failedRecords: (env, job, attempt, error) => [failure(env, job, attempt, error instanceof Error ? error.message : String(error), "retrying")],

  deadLetterRecords(env, job) {
    console.error(`email of message ${job.messageId} (app user ${job.appUserId}) gave up after its last retry`);
    return [failure(env, job, 0, null, "failed")];
  },
};
