import { createApp } from "../apps/apps";
import { config } from "../config";
import { resolveAppUser } from "../db/app-users";
import { findDemoApp, markDemoApp, type App } from "../db/apps";
import { composeMessage } from "../conversation/compose";
import { postMessages } from "../conversation/post";
import { forbidden, notFound } from "../errors";
import { isLoopbackHost } from "../lib/loopback";
import type { ConversationMessage } from "../model/message";

/**
 * The demo for local development: Parley Messenger on a page of the worker, beside a reply box
 * that answers as the business of an app named "Demo" (made on first use, and marked as the
 * demo's), so that one person can try both sides in one browser window, with no credentials to
 * copy around.
 */
const DEMO_APP_NAME = "Demo";

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
 * Whether the request carries the demo's secret, when one is set: a loopback host is only what
 * the request's Host header says, so under `npm run dev -- --ip 0.0.0.0` a peer on the network
 * could otherwise open the demo (and post as its business) by sending `Host: localhost`.
 */
export async function assertDemoSecret(env: Env, given: string | undefined): Promise<void> {
  const secret = config(env).demoSecret;
  if (secret !== null && !(given !== undefined && (await sameSecret(given, secret)))) {
    throw forbidden("secret: the demo needs the secret `npm run dev` printed (open the URL it printed)");
  }
}

/** Compared as digests, in constant time: the secret's length and bytes stay unknown to a guesser. */
async function sameSecret(given: string, secret: string): Promise<boolean> {
  const digest = (value: string) => crypto.subtle.digest("SHA-256", new TextEncoder().encode(value));
  const [a, b] = await Promise.all([digest(given), digest(secret)]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/**
 * A reply must come from the demo page itself: any site open in the developer's browser could
 * otherwise post to their local worker, as the Demo business (a form post needs no CORS).
 */
export function assertFromDemoPage(origin: string | undefined, url: string): void {
  if (origin !== undefined && origin !== new URL(url).origin) throw forbidden(`origin: replies come from the demo page only, not ${origin}`);
}

/** The demo's app, made the first time it is asked for (and again should it be deleted). */
export async function demoApp(env: Env): Promise<App> {
  const marked = await findDemoApp(env.DB);
  if (marked) return marked;
  const made = await createApp(env, { name: DEMO_APP_NAME });
  await markDemoApp(env.DB, made.id);
  return (await findDemoApp(env.DB)) ?? made;
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
