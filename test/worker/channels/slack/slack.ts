// The Slack fake behind the worker's fetch (test/support/slack-fake.ts), and the steps the Slack
// tests share: an app with a Slack integration, a user's message copied to Slack through the
// pipeline's real outbox and consumer, a signed event.
import { env, runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import { account, call, conversationOf, createApp, interceptFetch, runQueue, type TestApp } from "../../support/helpers";
import { BOT_TOKEN, CHANNEL, SIGNING_SECRET, SlackFake, slackSignature } from "../../../support/slack-fake";

export const SLACK_API = "https://slack.com/api";
export const FILES = "https://files.slack.test";

/** A fresh fake, answering every fetch to Slack's API and its file host. */
export function fakeSlack(): SlackFake {
  const fake = new SlackFake();
  interceptFetch(async (sent) => {
    const url = new URL(sent.url);
    const path = sent.url.startsWith(SLACK_API) ? sent.url.slice(SLACK_API.length) : url.pathname;
    if (!sent.url.startsWith(SLACK_API) && !sent.url.startsWith(FILES)) return new Response("not slack", { status: 599 });
    const answer = await fake.answer(path, sent.headers, sent.body);
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  });
  return fake;
}

export const slackIntegrationBody = (overrides: Record<string, unknown> = {}) => ({
  type: "slack",
  botToken: BOT_TOKEN,
  signingSecret: SIGNING_SECRET,
  channelId: CHANNEL,
  ...overrides,
});

/** A new app with a Slack integration; the integration as created. */
export async function appWithSlack(name: string): Promise<{ app: TestApp; integrationId: string }> {
  const app = await createApp(name);
  const created = await call("POST", `/v1/apps/${app.appId}/integrations`, await account(), { body: slackIntegrationBody() });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  return { app, integrationId: created.json.integration._id };
}

/** The Slack jobs waiting in a user's conversation's outbox, oldest first (drains held). */
export async function slackJobs(appUserId: string): Promise<unknown[]> {
  const stub = await conversationOf(appUserId);
  return runInDurableObject(stub, (_instance, state) =>
    state.storage.sql
      .exec<{ job: string }>("SELECT job FROM outbox WHERE channel = 'slack' ORDER BY seq")
      .toArray()
      .map((row) => JSON.parse(row.job)),
  );
}

/** Runs the Slack queue's consumer on these jobs, as the queue would. */
export const runSlack = (jobs: unknown[], attempts = 1) => runQueue("parley-slack", jobs.map((body) => ({ body, attempts })));

/** POSTs an Events API body to the integration's request URL, signed with `secret` at `timestamp`. */
export async function postEvent(integrationId: string, body: unknown, options: { secret?: string; timestamp?: number; headers?: Record<string, string> } = {}) {
  const raw = typeof body === "string" ? body : JSON.stringify(body);
  const headers = await slackSignature(options.secret ?? SIGNING_SECRET, options.timestamp ?? Math.floor(Date.now() / 1000), raw);
  return call("POST", `/v1/integrations/${integrationId}/slack/events`, {}, { raw, headers: { ...headers, ...options.headers } });
}

export { env };
