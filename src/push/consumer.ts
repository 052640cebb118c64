import { config } from "../config";
import { clearPushTokenStatement, currentPushDevicesStatement, pushDevicesByKey, pushDevicesOf, type PushDevice } from "../db/devices";
import { erasedAmongStatement } from "../db/erased-messages";
import { prunePushFailuresStatement, pushFailureStatement, pushGaveUpStatement, type PushFailure } from "../db/push-failures";
import { ACK, retryAfter, settleEach, type Verdict } from "../lib/queue-settlement";
import { attemptOf, devicePushJob, pushedMessage, type DevicePushJob, type PushJob } from "./jobs";
import { hasPushChannel, sendPush } from "./send";

/** The channels a batch sends through: the app's configured providers (src/push/send.ts). */
export interface PushChannels {
  sendPush: typeof sendPush;
  hasPushChannel: typeof hasPushChannel;
}

const CONFIGURED: PushChannels = { sendPush, hasPushChannel };

/** The queues' names, as wrangler.toml declares them. */
export const PUSH_QUEUE = "parley-push";
export const PUSH_DEAD_LETTER_QUEUE = "parley-push-dlq";

/** The most devices one message is pushed to: the user's most recently updated ones. */
const MAX_DEVICES_PER_MESSAGE = 100;
/** Queues delays a retry by at most 12 hours, whatever a provider's Retry-After asks. */
const MAX_DELAY_SECONDS = 43_200;
/** After this long a batch starts no further job; the rest go back to the queue untried. */
const BATCH_BUDGET_MS = 30_000;
/** A sendBatch takes at most 100 messages and 256 KB; a job is under 4 KB. */
const ENQUEUE_CHUNK = 50;

/** The wait before retry n+1 after attempt n failed: base, 2 base, 4 base, ..., or the provider's Retry-After when longer. */
export function pushRetryDelaySeconds(env: Env, attempt: number, retryAfterSeconds: number | null): number {
  const backoff = config(env).pushRetryBaseSeconds * 2 ** (attempt - 1);
  return Math.min(Math.max(backoff, retryAfterSeconds ?? 0), MAX_DELAY_SECONDS);
}

const pushKey = (appId: string, deviceId: string) => `${appId}/${deviceId}`;

async function enqueue(env: Env, jobs: PushJob[]): Promise<void> {
  for (let i = 0; i < jobs.length; i += ENQUEUE_CHUNK) {
    await env.PUSH.sendBatch(jobs.slice(i, i + ENQUEUE_CHUNK).map((body) => ({ body, contentType: "json" as const })));
  }
}

/** Writes the record and keeps the app's log within the delivery log's bounds (config). */
function recordStatements(env: Env, record: D1PreparedStatement, appId: string): D1PreparedStatement[] {
  const { deliveryLogKeep, deliveryLogDays } = config(env);
  return [record, prunePushFailuresStatement(env.DB, appId, deliveryLogKeep, Date.now() - deliveryLogDays * 86_400_000)];
}

const failureOf = (message: Message<PushJob>, rest: Pick<PushFailure, "lastStatus" | "lastError" | "outcome">): PushFailure => ({
  messageId: message.body.messageId,
  deviceId: message.body.kind === "device" ? message.body.deviceId : "",
  appId: message.body.appId,
  appUserId: message.body.appUserId,
  attempts: attemptOf(message.body, message.attempts),
  ...rest,
});

async function record(env: Env, failure: PushFailure, ...also: D1PreparedStatement[]): Promise<void> {
  await env.DB.batch([...also, ...recordStatements(env, pushFailureStatement(env.DB, failure), failure.appId)]);
}

/**
 * A stored appMaker message: one device job for each device whose current user is the
 * message's user, that has a token and a channel of the app that reaches it. Acknowledged only
 * once they are all enqueued; a retry may enqueue some twice, which the device jobs tolerate.
 */
async function fanOut(env: Env, channels: PushChannels, job: PushJob): Promise<Verdict> {
  const devices = await pushDevicesOf(env.DB, job.appId, job.appUserId, MAX_DEVICES_PER_MESSAGE);
  const reachable = await Promise.all(devices.map((device) => channels.hasPushChannel(env, job.appId, device.platform, device.token)));
  await enqueue(
    env,
    devices.filter((_, i) => reachable[i]).map((device) => devicePushJob(job, device.id)),
  );
  return ACK;
}

/**
 * One device's push, to the token the device has now. A token the provider calls dead is cleared
 * (unless the device registered another meanwhile) and forgotten by the rest of the batch.
 */
async function push(
  env: Env,
  channels: PushChannels,
  message: Message<DevicePushJob>,
  devices: Map<string, PushDevice>,
): Promise<Verdict> {
  const job = message.body;
  const key = pushKey(job.appId, job.deviceId);
  const device = devices.get(key);
  // Deleted, without a token, or another user's since the fan-out: not this user's push any more.
  if (!device || device.activeAppUserId !== job.appUserId) return ACK;
  const sent = await channels.sendPush(env, { platform: device.platform, token: device.token }, pushedMessage(job));
  switch (sent.outcome) {
    case "sent":
      // A push that went out at once leaves no record; one that needed retries says it made it.
      if (attemptOf(job, message.attempts) > 1) await record(env, failureOf(message, { lastStatus: sent.status, lastError: null, outcome: "sent" }));
      return ACK;
    case "retry":
      await record(env, failureOf(message, { lastStatus: sent.status, lastError: sent.reason, outcome: "retrying" }));
      return retryAfter(pushRetryDelaySeconds(env, attemptOf(job, message.attempts), sent.retryAfterSeconds));
    case "invalid-token":
      devices.delete(key);
      await record(
        env,
        failureOf(message, { lastStatus: sent.status, lastError: sent.reason, outcome: "invalid-token" }),
        clearPushTokenStatement(env.DB, job.appId, job.deviceId, device.token),
      );
      return ACK;
    case "failed":
      console.error(`push of message ${job.messageId} to device ${job.deviceId} failed: ${sent.reason}`);
      await record(env, failureOf(message, { lastStatus: sent.status, lastError: sent.reason, outcome: "failed" }));
      return ACK;
  }
}

/** A job whose work threw (D1 or the queue failing): its reason recorded, retried with backoff. */
async function failedWork(env: Env, message: Message<PushJob>, error: unknown): Promise<Verdict> {
  const reason = error instanceof Error ? error.message : String(error);
  await record(env, failureOf(message, { lastStatus: null, lastError: reason, outcome: "retrying" }));
  return retryAfter(pushRetryDelaySeconds(env, attemptOf(message.body, message.attempts), null));
}

/** What the dead-letter queue receives has used up its retries: the failure is recorded, its last reason kept. */
async function recordDeadLetter(env: Env, message: Message<PushJob>): Promise<Verdict> {
  const { messageId, appId, appUserId } = message.body;
  const deviceId = message.body.kind === "device" ? message.body.deviceId : "";
  console.error(`push of message ${messageId} ${deviceId ? `to device ${deviceId}` : "(fan-out)"} gave up after its last retry`);
  const gaveUp = pushGaveUpStatement(env.DB, { messageId, deviceId, appId, appUserId, attempts: 0 });
  await env.DB.batch(recordStatements(env, gaveUp, appId));
  return ACK;
}

/**
 * A batch of the PUSH queue (message jobs to fan out, device jobs to send) or of its dead-letter
 * queue. Each job is settled as soon as its work is done (src/lib/queue-settlement.ts); jobs of
 * one device go one after the other in queue order, so its notifications arrive in message
 * order. One D1 batch read finds the jobs about erased messages and the devices as they stand now.
 */
export async function handlePushBatch(batch: MessageBatch<PushJob>, env: Env, channels = CONFIGURED): Promise<void> {
  if (batch.queue === PUSH_DEAD_LETTER_QUEUE) {
    await settleEach(batch, (message) => recordDeadLetter(env, message), { budgetMs: BATCH_BUDGET_MS });
    return;
  }
  const jobs = batch.messages.map((message) => message.body);
  const [erasedRows, deviceRows] = await env.DB.batch<Record<string, unknown>>([
    erasedAmongStatement(env.DB, jobs.map((job) => job.messageId)),
    currentPushDevicesStatement(
      env.DB,
      jobs.flatMap((job) => (job.kind === "device" ? [{ appId: job.appId, id: job.deviceId }] : [])),
    ),
  ]);
  const erased = new Set(erasedRows.results.map((row) => String(row.message_id)));
  const devices = pushDevicesByKey(deviceRows.results);
  const work = async (message: Message<PushJob>): Promise<Verdict> => {
    const job = message.body;
    // Erased after it was queued: there is nothing left to announce (src/lifecycle/).
    if (erased.has(job.messageId)) return ACK;
    try {
      return job.kind === "message"
        ? await fanOut(env, channels, job)
        : await push(env, channels, message as Message<DevicePushJob>, devices);
    } catch (error) {
      return failedWork(env, message, error);
    }
  };
  await settleEach(batch, work, {
    budgetMs: BATCH_BUDGET_MS,
    lane: (job) => (job.kind === "device" ? pushKey(job.appId, job.deviceId) : job.messageId),
    // Back untried, with the attempts they have had: Queues would count a retry() as one more.
    requeue: (untried) =>
      enqueue(env, untried.map((message) => ({ ...message.body, priorAttempts: attemptOf(message.body, message.attempts) - 1 }))),
  });
}
