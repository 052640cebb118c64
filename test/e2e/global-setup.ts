// Starts `wrangler dev` on fresh local state for the end-to-end suite and stops it afterwards.
import type { TestProject } from "vitest/node";
import { freePorts, startDevServer } from "../support/dev-server.ts";

declare module "vitest" {
  interface ProvidedContext {
    baseUrl: string;
    accountKeyId: string;
    accountSecret: string;
    /** Where push.test.ts listens with its fake of FCM and Google's token endpoint. */
    fcmPort: number;
    /** Where slack.test.ts listens with its fake of Slack's Web API. */
    slackPort: number;
  }
}

export default async function setup(project: TestProject) {
  // Short retry delays so that the webhook and push retry tests see several attempts within
  // seconds; the local HTTP targets those tests start are on loopback, and so is the FCM fake.
  const [fcmPort, slackPort] = await freePorts(2);
  const fcm = `http://127.0.0.1:${fcmPort}`;
  const server = await startDevServer({
    vars: {
      WEBHOOK_RETRY_BASE_SECONDS: "1",
      WEBHOOK_ALLOW_PRIVATE_TARGETS: "true",
      PUSH_RETRY_BASE_SECONDS: "1",
      FCM_API_URL: fcm,
      GOOGLE_TOKEN_URL: `${fcm}/token`,
      SLACK_API_URL: `http://127.0.0.1:${slackPort}/api`,
      SLACK_RETRY_BASE_SECONDS: "1",
      EMAIL_DOMAIN: "mail.parley.test",
    },
  });
  project.provide("fcmPort", fcmPort);
  project.provide("slackPort", slackPort);
  project.provide("baseUrl", server.baseUrl);
  project.provide("accountKeyId", server.account.keyId);
  project.provide("accountSecret", server.account.secret);
  return server.stop;
}
