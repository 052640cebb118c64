import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ACK, retryAfter, settleEach, type Verdict } from "../../../src/delivery/queue-settlement";

interface Job {
  lane: string;
  ms: number;
  verdict?: Verdict;
  fail?: boolean;
}

const batchOf = (jobs: Job[]) =>
  createMessageBatch<Job>("any", jobs.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function settle(jobs: Job[], budgetMs: number, requeue?: (untried: readonly Message<Job>[]) => Promise<void>) {
  const batch = batchOf(jobs);
  const started: string[] = [];
  // getQueueResult does not report a retry's delay: record what each retry asked for.
  const retried: Array<{ id: string; options?: QueueRetryOptions }> = [];
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    message.retry = (options) => {
      retried.push({ id: message.id, options });
      retry(options);
    };
  }
  const report = await settleEach(
    batch,
    async (message) => {
      started.push(message.id);
      await sleep(message.body.ms);
      if (message.body.fail) throw new Error("boom");
      return message.body.verdict ?? ACK;
    },
    { budgetMs, lane: (job) => job.lane, requeue },
  );
  const result = await getQueueResult(batch, createExecutionContext());
  return { report, started, result, retried };
}

describe("per-message queue settlement", () => {
  it("settles each message on its own verdict: ack, retry with its delay, retry when the work throws", async () => {
    const { result, report, retried } = await settle(
      [
        { lane: "a", ms: 0 },
        { lane: "b", ms: 0, verdict: retryAfter(30) },
        { lane: "c", ms: 0, fail: true },
      ],
      1000,
    );
    expect(report).toEqual({ worked: 3, untried: 0 });
    expect(result.explicitAcks).toEqual(["m0"]);
    expect(retried).toEqual([
      { id: "m1", options: { delaySeconds: 30 } },
      { id: "m2", options: undefined },
    ]);
    expect(result.retryMessages.map((r) => r.msgId).sort()).toEqual(["m1", "m2"]);
    expect(result.retryBatch.retry).toBe(false);
  });

  it("works one lane in batch order and lanes side by side", async () => {
    const { started } = await settle(
      [
        { lane: "a", ms: 30 },
        { lane: "b", ms: 0 },
        { lane: "a", ms: 0 },
      ],
      1000,
    );
    expect(started).toEqual(["m0", "m1", "m2"]);
  });

  it("hands back what the budget did not reach, untried, without waiting for the slow work", async () => {
    const requeued: string[][] = [];
    let requeuedAt = 0;
    const t0 = Date.now();
    const { started, result, report } = await settle(
      [
        { lane: "slow", ms: 300 },
        { lane: "slow", ms: 0 },
        { lane: "fast", ms: 0 },
        { lane: "slow", ms: 0 },
      ],
      100,
      async (untried) => {
        requeuedAt = Date.now() - t0;
        requeued.push(untried.map((m) => m.id));
      },
    );
    expect(started).toEqual(["m0", "m2"]);
    expect(report).toEqual({ worked: 2, untried: 2 });
    expect(requeued).toEqual([["m1", "m3"]]);
    expect(requeuedAt).toBeLessThan(250);
    // Requeued messages are acknowledged: Queues would charge a retry() an attempt.
    expect(result.explicitAcks.sort()).toEqual(["m0", "m1", "m2", "m3"]);
  });

  it("retries the untried messages when they cannot be requeued", async () => {
    const { result } = await settle(
      [
        { lane: "slow", ms: 150 },
        { lane: "slow", ms: 0 },
      ],
      50,
      async () => {
        throw new Error("queue unavailable");
      },
    );
    expect(result.explicitAcks).toEqual(["m0"]);
    expect(result.retryMessages).toEqual([expect.objectContaining({ msgId: "m1" })]);
  });
});
