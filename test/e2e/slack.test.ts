// The Slack channel end to end: `wrangler dev` with SLACK_API_URL pointed at a loopback fake of
// Slack's Web API (global-setup.ts). Copies go through the real local queues: the outbox, the
// parley-slack queue, its retries; answers through the signed events endpoint and the same queue.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { accountJwt } from "../support/jwt.ts";
import { BOT_TOKEN, CHANNEL, SIGNING_SECRET, slackSignature, threadReply } from "../support/slack-fake.ts";
import { SlackServer } from "../support/slack-server.ts";
import { api, baseUrl, createApp, options, SmoochCore, until } from "./client.ts";

const slack = new SlackServer(inject("slackPort"));

beforeAll(() => slack.listen());
afterAll(() => slack.close());

let serial = 0;

async function slackApp() {
  const app = await createApp(`slack e2e ${++serial}`);
  const account = await accountJwt({ keyId: inject("accountKeyId"), secret: inject("accountSecret") }, { exp: "10m" });
  const { integration } = await api("POST", `/v1/apps/${app.appId}/integrations`, account, {
    type: "slack",
    botToken: BOT_TOKEN,
    signingSecret: SIGNING_SECRET,
    channelId: CHANNEL,
  });
  return { app, integrationId: integration._id as string, asApp: new SmoochCore({ keyId: app.keyId, secret: app.secret, scope: "app" }, options) };
}

/** The posts of this text the fake took (a refused attempt is not in the workspace). */
const postsWith = (text: string) => slack.taken("chat.postMessage").filter((call) => call.args.text === text);

describe("Slack through wrangler dev and a fake of Slack's Web API", () => {
  it("a user writes: the fake receives the thread's parent, then the message in the thread", async () => {
    const { asApp } = await slackApp();
    const userId = `slack-${++serial}@example.com`;
    await asApp.appUsers.create(userId, { givenName: "Mia" });
    await asApp.conversations.sendMessage(userId, { role: "appUser", type: "text", text: "Where is my order?" });
    const [post] = await until("the message in its thread", () => postsWith("Where is my order?").length > 0 && postsWith("Where is my order?"));
    const parent = slack.of("chat.postMessage").find((call) => call.args.text.includes(`userId: ${userId}`));
    expect(parent?.args.text).toContain("*Mia*");
    expect(post.args.thread_ts).toBeDefined();
    expect(post.args.channel).toBe(CHANNEL);
  });

  it("a signed event answers: the user's conversation has the appMaker message", async () => {
    const { asApp, integrationId } = await slackApp();
    const userId = `slack-${++serial}@example.com`;
    await asApp.appUsers.create(userId, {});
    await asApp.conversations.sendMessage(userId, { role: "appUser", type: "text", text: `question ${serial}` });
    const [post] = await until("the question in Slack", () => postsWith(`question ${serial}`).length > 0 && postsWith(`question ${serial}`));
    const raw = JSON.stringify(threadReply(post.args.thread_ts, "Shipped &amp; on its way"));
    const response = await fetch(`${baseUrl}/v1/integrations/${integrationId}/slack/events`, {
      method: "POST",
      headers: await slackSignature(SIGNING_SECRET, Math.floor(Date.now() / 1000), raw),
      body: raw,
    });
    expect(response.status).toBe(200);
    const answer = await until("the answer in the conversation", async () => {
      const { conversation } = await asApp.conversations.get(userId);
      const messages = conversation.messages;
      return messages.find((m: { role: string; text: string }) => m.role === "appMaker" && m.text === "Shipped & on its way");
    });
    expect(answer.name).toBe("Ana U0ANSWERER");
    expect(answer.source.type).toBe("slack");
  });

  it("a 429 then a 200 delivers the message once", async () => {
    const { asApp } = await slackApp();
    const userId = `slack-${++serial}@example.com`;
    await asApp.appUsers.create(userId, {});
    // The parent goes first; the message itself meets the 429.
    await asApp.conversations.sendMessage(userId, { role: "appUser", type: "text", text: "opening" });
    await until("the thread", () => postsWith("opening").length > 0);
    slack.script("chat.postMessage", { status: 429, headers: { "retry-after": "1" } });
    await asApp.conversations.sendMessage(userId, { role: "appUser", type: "text", text: `after a 429 ${serial}` });
    await until("the message after its 429", () => postsWith(`after a 429 ${serial}`).length > 0);
    expect(slack.of("chat.postMessage").filter((call) => call.args.text === `after a 429 ${serial}`)).toHaveLength(2);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(postsWith(`after a 429 ${serial}`)).toHaveLength(1);
  });
});
