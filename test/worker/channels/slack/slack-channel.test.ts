// The Slack channel (issue 23) through the worker's real routes, outbox, queue consumer and D1,
// against a fake of Slack's Web API behind the worker's fetch.
import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { account, call, conversationOf, expectError, freshUser, holdOutboxAlarms } from "../../support/helpers";
import { BOT_USER, CHANNEL, SIGNING_SECRET, slackSignature, TEAM, threadReply, type SlackFake } from "../../../support/slack-fake";
import { appWithSlack, fakeSlack, FILES, postEvent, runSlack, slackIntegrationBody, slackJobs } from "./slack";

let slack: SlackFake;

beforeEach(() => {
  slack = fakeSlack();
  holdOutboxAlarms();
});
afterEach(() => vi.restoreAllMocks());

const say = (app: { server: Record<string, string> }, userId: string, body: Record<string, unknown>) =>
  call("POST", `/v1/appusers/${userId}/messages`, app.server, { body: { role: "appUser", ...body } });

/** Posts the user's messages and runs their Slack jobs through the consumer. */
async function deliver(app: { server: Record<string, string> }, userId: string, ...texts: string[]) {
  for (const text of texts) expect((await say(app, userId, { text })).status).toBe(201);
  const jobs = await slackJobs(userId);
  await runSlack(jobs);
  return jobs;
}

describe("configuring a Slack integration", () => {
  it("checks the token with auth.test and shows channelId, teamId and status, never the secrets", async () => {
    const { app, integrationId } = await appWithSlack("slack config");
    expect(slack.of("auth.test")).toHaveLength(1);
    const one = await call("GET", `/v1/apps/${app.appId}/integrations/${integrationId}`, await account());
    expect(one.json.integration).toEqual({ _id: integrationId, type: "slack", status: "active", channelId: CHANNEL, teamId: TEAM });
    const listed = await call("GET", `/v1/apps/${app.appId}/integrations?types=slack`, await account());
    expect(listed.json.integrations).toEqual([one.json.integration]);
    expect(JSON.stringify([one.json, listed.json])).not.toMatch(/xoxb|0123456789abcdef0123/);
    // Devices see push channels only.
    const init = await call("POST", "/v1/init", app.token, { body: { device: { id: "slack-config-device", platform: "web" } } });
    expect(init.json.app.integrations).toEqual([]);
  });

  it("refuses a token Slack refuses (400 naming botToken), a second one (409), and bad fields by name", async () => {
    const { app } = await appWithSlack("slack refusals");
    const acct = await account();
    expectError(await call("POST", `/v1/apps/${app.appId}/integrations`, acct, { body: slackIntegrationBody() }), 409);
    const other = (await appWithSlack("slack other")).app;
    await call("DELETE", `/v1/apps/${other.appId}/integrations/${(await call("GET", `/v1/apps/${other.appId}/integrations`, acct)).json.integrations[0]._id}`, acct);
    const refused = await call("POST", `/v1/apps/${other.appId}/integrations`, acct, { body: slackIntegrationBody({ botToken: "xoxb-revoked-token" }) });
    expectError(refused, 400, "botToken");
    for (const [field, value] of [["botToken", "xoxp-user-token"], ["signingSecret", "not hex"], ["channelId", "general"]] as const) {
      expectError(await call("POST", `/v1/apps/${other.appId}/integrations`, acct, { body: slackIntegrationBody({ [field]: value }) }), 400, field);
    }
  });
});

describe("a thread per conversation", () => {
  it("opens the thread with who the user is, then posts each message into it, in order", async () => {
    const { app } = await appWithSlack("slack thread");
    const user = await freshUser(app, { givenName: "Zoe", email: "zoe@example.com", properties: { plan: "gold" } });
    await deliver(app, user.id, "hello", "are you there?");
    const posts = slack.of("chat.postMessage");
    expect(posts).toHaveLength(3);
    const [parent, first, second] = posts;
    expect(parent.args.thread_ts).toBeUndefined();
    expect(parent.args.channel).toBe(CHANNEL);
    expect(parent.args.text).toContain("*Zoe*");
    expect(parent.args.text).toContain(`userId: ${user.userId}`);
    expect(parent.args.text).toContain("plan: gold");
    const threadTs = (await env.DB.prepare("SELECT thread_ts FROM slack_threads WHERE app_user_id = ?").bind(user.id).first<{ thread_ts: string }>())!.thread_ts;
    expect([first.args.thread_ts, second.args.thread_ts]).toEqual([threadTs, threadTs]);
    expect([first.args.text, second.args.text]).toEqual(["hello", "are you there?"]);
  });

  it("posts a job once, even when it runs again (an acknowledgement lost)", async () => {
    const { app } = await appWithSlack("slack once");
    const user = await freshUser(app);
    const jobs = await deliver(app, user.id, "only once");
    await runSlack(jobs, 2);
    expect(slack.of("chat.postMessage").map((c) => c.args.text).filter((t) => t === "only once")).toHaveLength(1);
  });

  it("copies the business's answers from elsewhere marked with who wrote them, and escapes what users write", async () => {
    const { app } = await appWithSlack("slack appmaker");
    const user = await freshUser(app);
    await say(app, user.id, { text: "a <b> & c" });
    await call("POST", `/v1/appusers/${user.id}/messages`, app.server, { body: { role: "appMaker", text: "we are on it", name: "Desk Dan" } });
    await runSlack(await slackJobs(user.id));
    const texts = slack.of("chat.postMessage").slice(1).map((c) => c.args.text);
    expect(texts).toEqual(["a &lt;b&gt; &amp; c", "*Desk Dan* (answered outside Slack): we are on it"]);
  });

  it("shows an image as an image block of its mediaUrl", async () => {
    const { app } = await appWithSlack("slack image");
    const user = await freshUser(app);
    await say(app, user.id, { text: "look", mediaUrl: "https://cdn.example.com/cat.png", mediaType: "image/png" });
    await runSlack(await slackJobs(user.id));
    const post = slack.of("chat.postMessage")[1];
    expect(post.args.blocks.at(-1)).toEqual({ type: "image", image_url: "https://cdn.example.com/cat.png", alt_text: "image" });
  });

  it("retries on 429 after Slack's Retry-After and on 5xx", async () => {
    const { app } = await appWithSlack("slack 429");
    const user = await freshUser(app);
    slack.script("chat.postMessage", { status: 429, headers: { "retry-after": "42" } });
    expect((await say(app, user.id, { text: "wait" })).status).toBe(201);
    const jobs = await slackJobs(user.id);
    const first = await runSlack(jobs);
    expect(first.retries).toEqual([{ msgId: "msg-0", options: { delaySeconds: 42 } }]);
    slack.script("chat.postMessage", { status: 503 });
    expect((await runSlack(jobs, 2)).retries).toHaveLength(1);
    await runSlack(jobs, 3);
    expect(slack.of("chat.postMessage").filter((c) => c.args.text === "wait")).toHaveLength(1);
  });

  it("ends the job on invalid_auth, channel_not_found or not_in_channel, and shows the integration's error", async () => {
    for (const error of ["invalid_auth", "channel_not_found", "not_in_channel"]) {
      const { app, integrationId } = await appWithSlack(`slack ${error}`);
      const user = await freshUser(app);
      slack.script("chat.postMessage", { body: { ok: false, error } });
      expect((await say(app, user.id, { text: "hi" })).status).toBe(201);
      const run = await runSlack(await slackJobs(user.id));
      expect(run.retries).toEqual([]);
      expect(run.result.explicitAcks).toEqual(["msg-0"]);
      const shown = await call("GET", `/v1/apps/${app.appId}/integrations/${integrationId}`, await account());
      expect(shown.json.integration).toMatchObject({ status: "error", statusReason: error });
      const failure = await env.DB.prepare("SELECT reason FROM slack_failures WHERE integration_id = ?").bind(integrationId).first();
      expect(failure).toEqual({ reason: error });
    }
  });

  it("does not copy answers written in Slack back into Slack", async () => {
    const { app, integrationId } = await appWithSlack("slack loop");
    const user = await freshUser(app);
    await deliver(app, user.id, "question");
    const threadTs = (await env.DB.prepare("SELECT thread_ts FROM slack_threads WHERE integration_id = ?").bind(integrationId).first<{ thread_ts: string }>())!.thread_ts;
    const queued = vi.spyOn(env.SLACK, "send").mockResolvedValue(undefined as never);
    const jobsBefore = (await slackJobs(user.id)).length;
    expect((await postEvent(integrationId, threadReply(threadTs, "answer"))).status).toBe(200);
    await runSlack([queued.mock.calls[0][0]]);
    const messages = (await call("GET", `/v1/appusers/${user.id}/messages`, app.server)).json.messages;
    expect(messages.at(-1)).toMatchObject({ text: "answer", role: "appMaker" });
    // The answer made no Slack job: it is not copied back into the thread.
    expect(await slackJobs(user.id)).toHaveLength(jobsBefore);
  });

  it("stops when the user is deleted: no post, and the thread mapping goes with them", async () => {
    const { app, integrationId } = await appWithSlack("slack erasure");
    const user = await freshUser(app);
    await deliver(app, user.id, "first");
    expect((await say(app, user.id, { text: "second" })).status).toBe(201);
    const pending = await slackJobs(user.id);
    expect((await call("DELETE", `/v1/appusers/${user.id}`, app.server)).status).toBe(200);
    const before = slack.of("chat.postMessage").length;
    await runSlack(pending);
    expect(slack.of("chat.postMessage")).toHaveLength(before);
    const threads = await env.DB.prepare("SELECT COUNT(*) AS n FROM slack_threads WHERE integration_id = ?").bind(integrationId).first<{ n: number }>();
    expect(threads!.n).toBe(0);
  });
});

describe("answering from Slack", () => {
  async function threadOf(name: string) {
    const { app, integrationId } = await appWithSlack(name);
    const user = await freshUser(app);
    await deliver(app, user.id, "help me");
    const row = await env.DB.prepare("SELECT thread_ts FROM slack_threads WHERE app_user_id = ?").bind(user.id).first<{ thread_ts: string }>();
    const queued = vi.spyOn(env.SLACK, "send").mockResolvedValue(undefined as never);
    return { app, integrationId, user, threadTs: row!.thread_ts, queued };
  }

  const messagesOf = async (app: { server: Record<string, string> }, userId: string) =>
    (await call("GET", `/v1/appusers/${userId}/messages`, app.server)).json.messages;

  it("answers url_verification with its challenge", async () => {
    const { integrationId } = await appWithSlack("slack challenge");
    const reply = await postEvent(integrationId, { type: "url_verification", token: "x", challenge: "abc123" });
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ challenge: "abc123" });
  });

  it("makes a thread reply an appMaker message named after the Slack user, with Slack's markup converted", async () => {
    const { app, integrationId, user, threadTs, queued } = await threadOf("slack answer");
    const reply = await postEvent(integrationId, threadReply(threadTs, "See <https://x.example/a|the docs> &amp; ask <@U0OTHER> &lt;soon&gt;"));
    expect(reply.status).toBe(200);
    expect(queued).toHaveBeenCalledTimes(1);
    await runSlack([queued.mock.calls[0][0]]);
    const last = (await messagesOf(app, user.id)).at(-1);
    expect(last).toMatchObject({
      role: "appMaker",
      name: "Ana U0ANSWERER",
      avatarUrl: "https://avatars.slack.test/U0ANSWERER.png",
      text: "See the docs (https://x.example/a) & ask @Ana U0OTHER <soon>",
      source: { type: "slack" },
    });
  });

  it("takes a retried event (same event_id) once, and a job run twice stores one message", async () => {
    const { app, integrationId, user, threadTs, queued } = await threadOf("slack dedup");
    const event = threadReply(threadTs, "once", {}, "EvDEDUP1");
    expect((await postEvent(integrationId, event)).status).toBe(200);
    expect((await postEvent(integrationId, event, { headers: { "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout" } })).status).toBe(200);
    expect(queued).toHaveBeenCalledTimes(1);
    const job = queued.mock.calls[0][0];
    await runSlack([job]);
    await runSlack([job], 2);
    expect((await messagesOf(app, user.id)).filter((m: { text: string }) => m.text === "once")).toHaveLength(1);
  });

  it("makes an attached image an image message stored in R2", async () => {
    const { app, integrationId, user, threadTs, queued } = await threadOf("slack file");
    const files = [{ id: "F1", mimetype: "image/png", url_private: `${FILES}/files/F1/pixel.png`, name: "pixel.png" }];
    expect((await postEvent(integrationId, threadReply(threadTs, "", { subtype: "file_share", files }))).status).toBe(200);
    await runSlack([queued.mock.calls[0][0]]);
    const last = (await messagesOf(app, user.id)).at(-1);
    expect(last).toMatchObject({ type: "image", role: "appMaker", mediaType: "image/png" });
    expect(slack.of("file")[0].token).toMatch(/^xoxb-/);
    const key = last.mediaUrl.split("/v1/media/")[1];
    expect(await env.MEDIA.head(key)).not.toBeNull();
  });

  it("changes nothing for notes, bot messages, edits, deletions, other channels and messages outside threads", async () => {
    const { integrationId, threadTs, queued } = await threadOf("slack ignored");
    const ignored = [
      threadReply(threadTs, "note: internal"),
      threadReply(threadTs, "from a bot", { bot_id: "B1" }),
      threadReply(threadTs, "from Parley's bot", { user: BOT_USER }),
      threadReply(threadTs, "edited", { subtype: "message_changed" }),
      threadReply(threadTs, "", { subtype: "message_deleted" }),
      threadReply(threadTs, "elsewhere", { channel: "C0OTHER" }),
      threadReply(threadTs, "top level", { thread_ts: undefined }),
      { type: "event_callback", event_id: "EvReaction", event: { type: "reaction_added", user: "U1" } },
    ];
    for (const body of ignored) expect((await postEvent(integrationId, body)).status).toBe(200);
    expect(queued).not.toHaveBeenCalled();
  });

  it("changes nothing for a thread of another app's conversation", async () => {
    const { threadTs } = await threadOf("slack owner");
    const other = await appWithSlack("slack stranger");
    const queued = vi.mocked(env.SLACK.send);
    expect((await postEvent(other.integrationId, threadReply(threadTs, "crossing over"))).status).toBe(200);
    if (queued.mock.calls.length > 0) await runSlack([queued.mock.calls[0][0]]);
    const threads = await env.DB.prepare("SELECT COUNT(*) AS n FROM slack_threads WHERE integration_id = ?").bind(other.integrationId).first<{ n: number }>();
    expect(threads!.n).toBe(0);
  });

  it("refuses unsigned, wrongly signed, stale and replayed requests with 401, and changes nothing", async () => {
    const { integrationId, threadTs, queued } = await threadOf("slack signatures");
    const body = threadReply(threadTs, "forged");
    expectError(await postEvent(integrationId, body, { secret: "ffffffffffffffffffffffffffffffff" }), 401);
    expectError(await postEvent(integrationId, body, { timestamp: Math.floor(Date.now() / 1000) - 301 }), 401);
    expectError(await postEvent(integrationId, body, { timestamp: Math.floor(Date.now() / 1000) + 301 }), 401);
    expectError(await call("POST", `/v1/integrations/${integrationId}/slack/events`, {}, { body }), 401);
    // A signed request replayed with another body: the signature no longer covers it.
    const signed = await postEvent(integrationId, { type: "url_verification", challenge: "c" });
    expect(signed.status).toBe(200);
    const headers = await slackSignature(SIGNING_SECRET, Math.floor(Date.now() / 1000), "{}");
    expectError(await call("POST", `/v1/integrations/${integrationId}/slack/events`, {}, { raw: JSON.stringify(body), headers }), 401);
    expect(queued).not.toHaveBeenCalled();
  });

  it("answers 404 for unknown integrations, 400 for non-JSON or malformed bodies, 413 for oversized ones", async () => {
    const { integrationId } = await appWithSlack("slack bad input");
    expectError(await postEvent("000000000000000000000000", { type: "url_verification", challenge: "c" }), 404);
    expectError(await postEvent(integrationId, "not json"), 400, "body");
    expectError(await postEvent(integrationId, { type: "event_callback" }), 400, "body");
    expectError(await postEvent(integrationId, { type: "url_verification", challenge: "x".repeat(200 * 1024) }), 413);
  });
});

describe("beside the push channels", () => {
  it("makes no push job for an app whose only integration is Slack", async () => {
    const { app } = await appWithSlack("slack no push");
    const user = await freshUser(app);
    expect((await call("POST", `/v1/appusers/${user.id}/messages`, app.server, { body: { role: "appMaker", text: "hi" } })).status).toBe(201);
    const stub = await conversationOf(user.id);
    const channels = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec<{ channel: string }>("SELECT channel FROM outbox WHERE channel <> 'index'").toArray().map((row) => row.channel),
    );
    // Its Slack post, and no push job (the conversation index takes every message, whatever the app's integrations).
    expect(channels).toEqual(["slack"]);
  });
});
