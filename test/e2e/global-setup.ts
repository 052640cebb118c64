// Starts `wrangler dev` on fresh local state for the end-to-end suite and stops it afterwards.
import type { TestProject } from "vitest/node";
import { startDevServer } from "../support/dev-server.ts";

declare module "vitest" {
  interface ProvidedContext {
    baseUrl: string;
    accountKeyId: string;
    accountSecret: string;
  }
}

export default async function setup(project: TestProject) {
  // Short retry delays so that the webhook retry tests see several attempts within seconds;
  // the local HTTP targets those tests start are on loopback.
  const server = await startDevServer({
    vars: { WEBHOOK_RETRY_BASE_SECONDS: "1", WEBHOOK_ALLOW_PRIVATE_TARGETS: "true" },
  });
  project.provide("baseUrl", server.baseUrl);
  project.provide("accountKeyId", server.account.keyId);
  project.provide("accountSecret", server.account.secret);
  return server.stop;
}
