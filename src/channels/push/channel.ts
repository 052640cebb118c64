import { config } from "../../config";
import { clearPushTokenStatement, currentPushDevicesStatement, pushDevicesByKey, pushDevicesOf, type PushDevice } from "../../db/devices";
import { prunePushFailuresStatement, pushFailureStatement, pushGaveUpStatement, type PushFailure } from "../../db/push-failures";
import type { Channel, Sent } from "../../delivery/channel";
import { devicePushJob, messagePushJob, pushedMessage, type DevicePushJob, type PushJob, type PushRecipient } from "./jobs";
import { pushRecipientFor } from "./recipient";
import { hasPushChannel, sendPush } from "./send";

/** The providers a batch sends through: the app's configured ones (src/channels/push/send.ts). */
export interface PushChannels {
  sendPush: typeof sendPush;
  hasPushChannel: typeof hasPushChannel;
}

const CONFIGURED: PushChannels = { sendPush, hasPushChannel };

/** The most devices one message is pushed to: the user's most recently updated ones. */
const MAX_DEVICES_PER_MESSAGE = 100;
/** After this long a batch starts no further job; the rest go back to the queue untried. */
const BATCH_BUDGET_MS = 30_000;

const pushKey = (appId: string, deviceId: string) => `${appId}/${deviceId}`;

/** Writes the record and keeps the app's log within the delivery log's bounds (config). */
function recordStatements(env: Env, record: D1PreparedStatement, appId: string): D1PreparedStatement[] {
  const { deliveryLogKeep, deliveryLogDays } = config(env);
  return [record, prunePushFailuresStatement(env.DB, appId, deliveryLogKeep, Date.now() - deliveryLogDays * 86_400_000)];
}

const deviceOf = (job: PushJob) => (job.kind === "device" ? job.deviceId : "");

/** One push's record in push_failures, with the app's log kept within its bounds. */
function record(env: Env, job: PushJob, attempts: number, rest: Pick<PushFailure, "lastStatus" | "lastError" | "outcome">) {
  const failure: PushFailure = { messageId: job.messageId, deviceId: deviceOf(job), appId: job.appId, appUserId: job.appUserId, attempts, ...rest };
  return recordStatements(env, pushFailureStatement(env.DB, failure), job.appId);
}

/**
 * A stored appMaker message: one device job for each device whose current user is the
 * message's user, that has a token and a channel of the app that reaches it. Done only once
 * they are all enqueued; a retry may enqueue some twice, which the device jobs tolerate.
 */
async function fanOut(env: Env, providers: PushChannels, job: PushJob, enqueue: (jobs: PushJob[]) => Promise<void>): Promise<Sent> {
  const devices = await pushDevicesOf(env.DB, job.appId, job.appUserId, MAX_DEVICES_PER_MESSAGE);
  const reachable = await Promise.all(devices.map((device) => providers.hasPushChannel(env, job.appId, device.platform, device.token)));
  await enqueue(devices.filter((_, i) => reachable[i]).map((device) => devicePushJob(job, device.id)));
  return { result: "done" };
}

/**
 * One device's push, to the token the device has now. A token the provider calls dead is cleared
 * (unless the device registered another meanwhile) and forgotten by the rest of the batch.
 */
async function push(env: Env, providers: PushChannels, job: DevicePushJob, attempt: number, devices: Map<string, PushDevice>): Promise<Sent> {
  const key = pushKey(job.appId, job.deviceId);
  const device = devices.get(key);
  // Deleted, without a token, or another user's since the fan-out: not this user's push any more.
  if (!device || device.activeAppUserId !== job.appUserId) return { result: "done" };
  const sent = await providers.sendPush(env, { platform: device.platform, token: device.token }, pushedMessage(job));
  switch (sent.outcome) {
    case "sent":
      // A push that went out at once leaves no record; one that needed retries says it made it.
      return { result: "done", records: attempt > 1 ? record(env, job, attempt, { lastStatus: sent.status, lastError: null, outcome: "sent" }) : [] };
    case "retry":
      return {
        result: "retry",
        retryAfterSeconds: sent.retryAfterSeconds,
        records: record(env, job, attempt, { lastStatus: sent.status, lastError: sent.reason, outcome: "retrying" }),
      };
    case "invalid-token":
      devices.delete(key);
      return {
        result: "done",
        records: [
          clearPushTokenStatement(env.DB, job.appId, job.deviceId, device.token),
          ...record(env, job, attempt, { lastStatus: sent.status, lastError: sent.reason, outcome: "invalid-token" }),
        ],
      };
    case "failed":
      console.error(`push of message ${job.messageId} to device ${job.deviceId} failed: ${sent.reason}`);
      return { result: "failed", records: record(env, job, attempt, { lastStatus: sent.status, lastError: sent.reason, outcome: "failed" }) };
  }
}

/**
 * The push channel through the given providers: a stored appMaker message makes one `message`
 * job, which fans out on the same queue to one `device` job per device that should get it, each
 * sent and settled on its own. Jobs of one device go one after the other in queue order, so its
 * notifications arrive in message order. Trouble is recorded in push_failures; a dead token is
 * cleared from its device.
 */
export function makePushChannel(providers: PushChannels): Channel<PushJob, PushRecipient, Map<string, PushDevice>> {
  return {
    kind: "push",
    queue: (env) => env.PUSH,
    queueName: "parley-push",
    deadLetterQueueName: "parley-push-dlq",

    // Only the business's messages are pushed.
    destinationFor: (env, user, occasion) =>
      occasion.kind === "messages" && occasion.roles.includes("appMaker") ? pushRecipientFor(env, user) : Promise.resolve(undefined),
    handOver: (recipient, to) => ({ ...recipient, appUserId: to.toAuthorId, conversationId: to.conversationId }),

    jobsFor(event, recipient) {
      const job = event.kind === "message" && messagePushJob(recipient, event.message);
      return job ? [job] : [];
    },

    lane: (job) => (job.kind === "device" ? pushKey(job.appId, job.deviceId) : job.messageId),
    budgetMs: () => BATCH_BUDGET_MS,
    retryBaseSeconds: (env) => config(env).pushRetryBaseSeconds,

    /** The devices as they stand now. */
    batchReads: (env, jobs) => [currentPushDevicesStatement(env.DB, jobs.flatMap((job) => (job.kind === "device" ? [{ appId: job.appId, id: job.deviceId }] : [])))],
    batchState: ([devices]) => pushDevicesByKey(devices.results),

    send: (env, job, attempt) =>
      job.kind === "message"
        ? fanOut(env, providers, job, attempt.enqueue)
        : push(env, providers, job, attempt.number, attempt.batch),

    failedRecords: (env, job, attempt, error) =>
      record(env, job, attempt, { lastStatus: null, lastError: error instanceof Error ? error.message : String(error), outcome: "retrying" }),

    deadLetterRecords(env, job) {
      const deviceId = deviceOf(job);
      console.error(`push of message ${job.messageId} ${deviceId ? `to device ${deviceId}` : "(fan-out)"} gave up after its last retry`);
      const gaveUp = pushGaveUpStatement(env.DB, { messageId: job.messageId, deviceId, appId: job.appId, appUserId: job.appUserId, attempts: 0 });
      return recordStatements(env, gaveUp, job.appId);
    },
  };
}

export const pushChannel = makePushChannel(CONFIGURED);
