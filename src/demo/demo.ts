import { createApp } from "../apps/apps";
import { config } from "../config";
import { resolveAppUser } from "../db/app-users";
import { findAppByName, type App } from "../db/apps";
import { composeMessage } from "../conversation/compose";
import { postMessages } from "../conversation/post";
import { forbidden, notFound } from "../errors";
import type { ConversationMessage } from "../presenters/message";

/**
 * The demo for local development: Parley Messenger on a page of the worker, beside a reply box
 * that answers as the business of an app named "Demo" (made on first use), so that one person
 * can try both sides in one browser window, with no credentials to copy around.
 */
export const DEMO_APP_NAME = "Demo";

/** Loopback names and addresses: localhost (and *.localhost), 127.0.0.0/8 and ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  return host === "localhost" || host.endsWith(".localhost") || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Whether the demo answers this request: on a loopback host (`npm run dev`, a plain `wrangler
 * dev`), or anywhere when DEMO_ENABLED says so. The host is the request URL's, which on
 * Cloudflare is the hostname the worker is routed on, never a loopback name.
 */
export function demoAvailable(env: Env, url: string): boolean {
  return config(env).demoEnabled || isLoopbackHost(new URL(url).hostname);
}

/** A 404, as for any unknown path, where the demo is not served. */
export function assertDemoAllowed(env: Env, url: string): void {
  if (!demoAvailable(env, url)) {
    throw notFound(`path: no route for ${new URL(url).pathname}`);
  }
}

/**
 * A reply must come from the demo page itself: any site open in the developer's browser could
 * otherwise post to their local worker (the API allows every origin), as the Demo business.
 */
export function assertFromDemoPage(origin: string | undefined, url: string): void {
  if (origin !== undefined && origin !== new URL(url).origin) throw forbidden(`origin: replies come from the demo page only, not ${origin}`);
}

/** The "Demo" app, made the first time it is asked for. */
export async function demoApp(env: Env): Promise<App> {
  return (await findAppByName(env.DB, DEMO_APP_NAME)) ?? createApp(env, { name: DEMO_APP_NAME });
}

/** Posts `text` as the Demo app's business to one of its users (the visitor on the demo page). */
export async function replyAsDemoBusiness(env: Env, appUserId: string, text: string): Promise<ConversationMessage> {
  const app = await demoApp(env);
  const user = await resolveAppUser(env.DB, app.id, appUserId);
  if (!user) throw notFound(`appUserId: no user '${appUserId}' in the Demo app`);
  const message = await composeMessage(user, { role: "appMaker", text });
  const { appended } = await postMessages(env, user, [message]);
  return appended[0];
}
