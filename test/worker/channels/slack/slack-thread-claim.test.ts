// One Slack thread per conversation when several jobs of a conversation want to open it at once
// (batches side by side, a job replayed after a crash): the opener claims the thread's row first.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { call, freshUser, holdOutboxAlarms } from "../../support/helpers";
import type { SlackFake } from "../../../support/slack-fake";
import { appWithSlack, env, fakeSlack, runSlack, slackJobs } from "./slack";

let slack: SlackFake;

beforeEach(() => {
  slack = fakeSlack();
  holdOutboxAlarms();
});
afterEach(() => vi.restoreAllMocks());

const parents = () => slack.of("chat.postMessage").filter((c) => c.args.thread_ts === undefined);
const inThread = () => slack.of("chat.postMessage").filter((c) => c.args.thread_ts !== undefined);
const threadRows = (userId: string) =>
  env.DB.prepare("SELECT thread_ts, claimed_at FROM slack_threads WHERE app_user_id = ?").bind(userId).all<{ thread_ts: string; claimed_at: number | null }>();

async function userWriting(name: string, ...texts: string[]) {
  const { app } = await appWithSlack(name);
  const user = await freshUser(app);
  for (const text of texts) {
    expect((await call("POST", `/v1/appusers/${user.id}/messages`, app.server, { body: { role: "appUser", text } })).status).toBe(201);
  }
  return { user, jobs: await slackJobs(user.id) };
}

describe("opening a conversation's thread", () => {
  it("posts one parent when a conversation's first messages are handled at once, and every message into it", async () => {
    const { user, jobs } = await userWriting("slack claim concurrent", "one", "two", "three");
    const runs = await Promise.all(jobs.map((job) => runSlack([job])));
    expect(parents()).toHaveLength(1);
    // The jobs that found the thread being opened retry shortly, without posting.
    const waited = runs.filter((run) => run.retries.length > 0);
    expect(waited.length).toBeGreaterThan(0);
    for (const run of waited) expect(run.retries[0].options?.delaySeconds).toBeGreaterThanOrEqual(2);
    for (const [i, run] of runs.entries()) if (run.retries.length > 0) await runSlack([jobs[i]], 2);
    expect(parents()).toHaveLength(1);
    const { results } = await threadRows(user.id);
    expect(results).toEqual([{ thread_ts: expect.stringMatching(/^\d+\.\d+$/), claimed_at: null }]);
    expect(new Set(inThread().map((c) => c.args.thread_ts))).toEqual(new Set([results[0].thread_ts]));
    expect(inThread().map((c) => c.args.text).sort()).toEqual(["one", "three", "two"]);
  });

  it("posts one parent and one copy when the same job runs twice at once (replayed)", async () => {
    const { jobs } = await userWriting("slack claim replay", "only once");
    const [first, second] = await Promise.all([runSlack(jobs), runSlack(jobs)]);
    expect(parents()).toHaveLength(1);
    expect([first.retries.length, second.retries.length].sort()).toEqual([0, 1]);
    await runSlack(jobs, 2);
    expect(parents()).toHaveLength(1);
    expect(inThread().map((c) => c.args.text)).toEqual(["only once"]);
  });

  it("waits for another job's fresh claim, and takes over one older than 30 s (its worker died)", async () => {
    const { user, jobs } = await userWriting("slack claim stale", "hello");
    const [{ conversationId, integrationId }] = jobs as Array<{ conversationId: string; integrationId: string }>;
    const claimAt = (at: number) =>
      env.DB.prepare("INSERT INTO slack_threads (integration_id, conversation_id, app_user_id, thread_ts, claimed_at) VALUES (?, ?, ?, 'opening:other', ?)")
        .bind(integrationId, conversationId, user.id, at)
        .run();
    await claimAt(Date.now() - 5_000);
    const fresh = await runSlack(jobs);
    expect(fresh.retries).toHaveLength(1);
    expect(slack.of("chat.postMessage")).toEqual([]);

    await env.DB.prepare("DELETE FROM slack_threads WHERE app_user_id = ?").bind(user.id).run();
    await claimAt(Date.now() - 31_000);
    await runSlack(jobs, 2);
    expect(parents()).toHaveLength(1);
    expect(inThread().map((c) => c.args.text)).toEqual(["hello"]);
    expect((await threadRows(user.id)).results).toEqual([{ thread_ts: expect.stringMatching(/^\d+\.\d+$/), claimed_at: null }]);
  });

  it("gives its claim up when Slack refuses the parent, so the retry opens the thread at once", async () => {
    const { user, jobs } = await userWriting("slack claim refused", "hi");
    slack.script("chat.postMessage", { status: 503 });
    expect((await runSlack(jobs)).retries).toHaveLength(1);
    expect((await threadRows(user.id)).results).toEqual([]);
    await runSlack(jobs, 2);
    expect(parents().filter((c) => slack.taken("chat.postMessage").includes(c))).toHaveLength(1);
    expect(inThread().map((c) => c.args.text)).toEqual(["hi"]);
  });
});

describe("a post whose ts was never stored (the worker died, or Slack's answer was lost)", () => {
  const texts = (text: string) => slack.of("chat.postMessage").filter((c) => c.args.text === text);
  const forget = (userId: string) =>
    env.DB.prepare("DELETE FROM slack_posts WHERE conversation_id IN (SELECT conversation_id FROM slack_threads WHERE app_user_id = ?)").bind(userId).run();
  const postsOf = (userId: string) =>
    env.DB.prepare("SELECT p.ts FROM slack_posts p JOIN slack_threads t USING (integration_id, conversation_id) WHERE t.app_user_id = ?").bind(userId).all<{ ts: string }>();

  it("is found in the thread by a later attempt, stored, and not posted again", async () => {
    const { user, jobs } = await userWriting("slack lost answer", "posted once");
    await runSlack(jobs);
    expect(slack.of("conversations.replies")).toEqual([]);
    const [copy] = texts("posted once");
    await forget(user.id);
    await runSlack(jobs, 2);
    expect(texts("posted once")).toHaveLength(1);
    expect(slack.of("conversations.replies")).toHaveLength(1);
    expect((await postsOf(user.id)).results).toEqual([{ ts: copy.ts }]);
  });

  it("finds the parent a dead claim's holder posted, rather than open a second thread", async () => {
    const { user, jobs } = await userWriting("slack dead opener", "after the crash");
    await runSlack(jobs);
    const threadTs = parents()[0].ts;
    await forget(user.id);
    await env.DB.prepare("UPDATE slack_threads SET thread_ts = 'opening:dead', claimed_at = ? WHERE app_user_id = ?").bind(Date.now() - 31_000, user.id).run();
    await runSlack(jobs, 2);
    expect(parents()).toHaveLength(1);
    expect(texts("after the crash")).toHaveLength(1);
    expect((await threadRows(user.id)).results).toEqual([{ thread_ts: threadTs, claimed_at: null }]);
  });
});
