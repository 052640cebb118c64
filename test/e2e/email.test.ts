// The email channel against `wrangler dev`: a user's message leaves through the send_email binding
// (the local explorer lists what it sent), and a reply posted to /cdn-cgi/local/email runs the
// worker's email() handler and becomes the business's message in the user's conversation.
import { inject } from "vitest";
import { beforeAll, describe, expect, it } from "vitest";
import { accountJwt } from "../support/jwt.ts";
import { api, baseUrl, createApp, until } from "./client.ts";
import type { App } from "../support/apps.ts";

const BUSINESS = "support@business.example";
const EXPLORER = `${baseUrl}/cdn-cgi/local/explorer/api/local/email/sending`;

let app: App;

/** Every email the binding sent so far, as the explorer lists them. */
async function sentEmails(): Promise<Array<Record<string, any>>> {
  const all: Array<Record<string, any>> = [];
  let cursor: string | undefined;
  do {
    const response = await fetch(`${EXPLORER}?per_page=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    expect(response.status).toBe(200);
    const page = (await response.json()) as { result: Array<Record<string, any>>; result_info?: { cursor?: string } };
    all.push(...page.result);
    cursor = page.result.length > 0 ? page.result_info?.cursor : undefined;
  } while (cursor);
  return all;
}

beforeAll(async () => {
  app = await createApp("Email e2e");
  const account = await accountJwt({ keyId: inject("accountKeyId"), secret: inject("accountSecret") });
  await api("POST", `/v1/apps/${app.appId}/integrations`, account, { type: "email", to: [BUSINESS] });
});

describe("the email channel under wrangler dev", () => {
  it("emails a user's message, and takes the business's reply into the conversation", async () => {
    const userId = `email-e2e-${Date.now()}`;
    const { appUser } = await api("POST", "/v1/appusers", app.appJwt, { userId, givenName: "Ann" });
    const text = `Where is my order? ${userId}`;
    await api("POST", `/v1/appusers/${appUser._id}/messages`, app.appJwt, { role: "appUser", type: "text", text });

    const email = await until("the email in the local explorer", async () =>
      (await sentEmails()).find((sent) => String(sent.replyTo).startsWith(`${appUser._id}.`)),
    );
    expect(email).toMatchObject({ to: [BUSINESS], subject: "Conversation with Ann (Email e2e)" });
    expect(email.from).toContain("Ann via Email e2e");
    const replyTo = email.replyTo as string;
    expect(replyTo).toMatch(/^[0-9a-f]{24}\.[0-9a-f]{32}@mail\.parley\.test$/);
    const one = await fetch(`${EXPLORER}?email_id=${encodeURIComponent(email.messageId)}&worker=${email.worker}`);
    const body = JSON.stringify(await one.json());
    expect(body).toContain(text);
    expect(body).toContain(userId);

    const raw = [
      `From: Support Team <${BUSINESS}>`,
      `To: ${replyTo}`,
      "Subject: Re: Conversation with Ann (Email e2e)",
      `Message-ID: <reply-${userId}@business.example>`,
      "Content-Type: text/plain; charset=utf-8",
      "",
      "It ships tomorrow.",
      "",
      `On Mon, Dec 7, 2026 at 9:58 AM Ann via Email e2e <${replyTo}> wrote:`,
      `> ${text}`,
    ].join("\r\n");
    const inbound = `${baseUrl}/cdn-cgi/local/email?from=${encodeURIComponent(BUSINESS)}&to=${encodeURIComponent(replyTo)}`;
    const taken = await fetch(inbound, { method: "POST", body: raw });
    expect(taken.status, await taken.text()).toBe(200);
    // The same reply again: one message.
    expect((await fetch(inbound, { method: "POST", body: raw })).status).toBe(200);

    const { messages } = await api("GET", `/v1/appusers/${appUser._id}/messages`, app.appJwt);
    expect(messages.map((m: any) => [m.role, m.text])).toEqual([
      ["appUser", text],
      ["appMaker", "It ships tomorrow."],
    ]);
    expect(messages[1].name).toBe("Support Team");

    // A sender who is not the business is bounced with the reason.
    const forged = raw.replace(BUSINESS, "mallory@evil.example").replace(`reply-${userId}`, `forged-${userId}`);
    const refused = await fetch(`${baseUrl}/cdn-cgi/local/email?from=mallory%40evil.example&to=${encodeURIComponent(replyTo)}`, { method: "POST", body: forged });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("may not answer");
  });
});
