// The business's side of the browser scenarios, over REST to the `wrangler dev` of the global
// setup: apps, webhooks, replies, typing and postback buttons, with an app-scope JWT.
import { generateKeyPairSync } from "node:crypto";
import { inject } from "vitest";
import { createApp, type App } from "../support/apps.ts";
import { expectStatus, httpSend } from "../support/http.ts";
import { accountJwt, bearer } from "../support/jwt.ts";

export const baseUrl = inject("baseUrl");
export const pageOrigin = inject("pageOrigin");

const send = httpSend(baseUrl);

/** An app and a key made through the account API, as an operator makes them. */
export const newApp = (name: string, settings?: Record<string, unknown>): Promise<App> =>
  createApp(send, { keyId: inject("accountKeyId"), secret: inject("accountSecret") }, { name, exp: "30m", ...(settings && { settings }) });

const pkcs8 = (pair: { privateKey: { export(options: { type: "pkcs8"; format: "pem" }): string | Buffer } }) =>
  String(pair.privateKey.export({ type: "pkcs8", format: "pem" }));

/**
 * Configures every push channel (fcm, apn, webpush) on the app: init then lists them in
 * `app.integrations`, which the widgets iterate, and sets `apnEnabled` and `gcmProject`.
 */
export async function configurePushChannels(app: App) {
  const account = bearer(await accountJwt({ keyId: inject("accountKeyId"), secret: inject("accountSecret") }));
  const serviceAccount = {
    type: "service_account",
    project_id: "parley-browser",
    private_key: pkcs8(generateKeyPairSync("rsa", { modulusLength: 2048 })),
    client_email: "push@parley-browser.iam.gserviceaccount.com",
  };
  const p8 = pkcs8(generateKeyPairSync("ec", { namedCurve: "P-256" }));
  for (const body of [
    { type: "fcm", serviceAccount },
    { type: "apn", keyId: "KEYID12345", teamId: "TEAMID1234", bundleId: "com.example.browser", key: p8 },
    { type: "webpush" },
  ]) {
    await expectStatus(send, "POST", `/v1/apps/${app.appId}/integrations`, account, 201, body);
  }
}

/** POST /v1/webhooks with the app's JWT: the webhook. */
export async function createWebhook(app: App, target: string, triggers: string[]) {
  const { webhook } = await expectStatus(send, "POST", "/v1/webhooks", app.server, 201, { target, triggers });
  return webhook;
}

/** POST /v1/appusers/{id}/messages as the business (role appMaker): the stored message. */
export async function businessSays(app: App, appUserId: string, message: Record<string, unknown>) {
  const body = { role: "appMaker", type: "text", ...message };
  const reply = await expectStatus(send, "POST", `/v1/appusers/${encodeURIComponent(appUserId)}/messages`, app.server, [200, 201], body);
  return reply.message;
}

/** POST /v1/appusers/{id}/conversation/activity: the business (or, as `appUser`, the user) starts or stops typing. */
export async function typing(app: App, appUserId: string, type: "typing:start" | "typing:stop" = "typing:start", role: "appMaker" | "appUser" = "appMaker") {
  await expectStatus(send, "POST", `/v1/appusers/${encodeURIComponent(appUserId)}/conversation/activity`, app.server, [200, 201, 202, 204], { role, type });
}

export const businessTyping = (app: App, appUserId: string, type?: "typing:start" | "typing:stop") => typing(app, appUserId, type);

/** POST /v1/appusers with the app's JWT: a user made by the business (as Smooch's pre-create). */
export async function createUser(app: App, userId: string, fields: Record<string, unknown> = {}) {
  return (await expectStatus(send, "POST", "/v1/appusers", app.server, 201, { userId, ...fields })).appUser;
}

/** PUT /v1/appusers/{id} with the app's JWT: the business updates the user's profile. */
export async function updateUser(app: App, appUserId: string, fields: Record<string, unknown>) {
  await expectStatus(send, "PUT", `/v1/appusers/${encodeURIComponent(appUserId)}`, app.server, 200, fields);
}

/** DELETE /v1/appusers/{id}/messages/{messageId} with the app's JWT: one message erased. */
export async function eraseMessage(app: App, appUserId: string, messageId: string) {
  await expectStatus(send, "DELETE", `/v1/appusers/${encodeURIComponent(appUserId)}/messages/${messageId}`, app.server, 200);
}

/** GET /v1/appusers/{id}/conversation with the app's JWT. */
export async function conversationOf(app: App, appUserId: string) {
  return expectStatus(send, "GET", `/v1/appusers/${encodeURIComponent(appUserId)}/conversation`, app.server, 200);
}

/** PUT /v1/appusers/{id}/conversation with the app's JWT: closes, reopens or (un)assigns, as the business's own tools do. */
export async function triage(app: App, appUserId: string, changes: { status?: "open" | "closed"; assignee?: string | null }) {
  return (await expectStatus(send, "PUT", `/v1/appusers/${encodeURIComponent(appUserId)}/conversation`, app.server, 200, changes)).conversation;
}

/** POST /v1/apps/{appId}/agents with the account JWT: a person who answers in the Desk. */
export async function addAgent(app: App, email: string, name: string) {
  const account = bearer(await accountJwt({ keyId: inject("accountKeyId"), secret: inject("accountSecret") }));
  return (await expectStatus(send, "POST", `/v1/apps/${app.appId}/agents`, account, 201, { email, name })).agent;
}

