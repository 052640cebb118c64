// The email channel (src/channels/email/): configuration, the emails appUser messages become
// (sent through the real send_email binding, which answers a Message-ID; what it was asked to send
// is read by a spy that calls through), and replies taken by the email() handler's domain function.
import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { composeEmail, type EmailParts } from "../../../../src/channels/email/compose";
import type { EmailJob } from "../../../../src/channels/email/channel";
import { isAllowedSender, MAX_EMAIL_BYTES, receiveReply } from "../../../../src/inbound-email/replies";
import { htmlToText, stripQuotedReply } from "../../../../src/inbound-email/reply-text";
import { claimedAppUser, replyLocalPart, verifyReplyMac } from "../../../../src/channels/email/token";
import { newTokenKey } from "../../../../src/channels/email/integration";
import { replyTarget } from "../../../../src/db/email";
import { account, call, conversationOf, createApp, expectError, freshUser, hexId, holdOutboxAlarms, runQueue, type TestApp } from "../../support/helpers";
import gmail from "./samples/gmail.eml?raw";
import outlook from "./samples/outlook.eml?raw";
import apple from "./samples/apple.eml?raw";
import htmlOnly from "./samples/html-only.eml?raw";

const DOMAIN = "mail.parley.test";
const BUSINESS = "support@business.example";
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]);

let app: TestApp;

const integrate = async (owner: TestApp, body: Record<string, unknown>) =>
  call("POST", `/v1/apps/${owner.appId}/integrations`, await account(), { body: { type: "email", ...body } });

beforeAll(async () => {
  app = await createApp("Acme");
  expect((await integrate(app, { to: [BUSINESS] })).status).toBe(201);
});

afterEach(() => vi.restoreAllMocks());

/** The reply address of a user's conversation, as its emails carry it. */
async function replyAddress(appUserId: string, owner = app): Promise<string> {
  const target = await replyTarget(env.DB, appUserId);
  return `${await replyLocalPart(target!.tokenKey, owner.appId, appUserId)}@${DOMAIN}`;
}

/** A raw reply from `from`, its text (or whole body) as given. */
function rawReply(options: { from?: string; messageId?: string; body?: string; headers?: string[] } = {}) {
  return [
    `From: Support <${options.from ?? BUSINESS}>`,
    `To: someone@${DOMAIN}`,
    "Subject: Re: hi",
    `Message-ID: <${options.messageId ?? hexId()}@business.example>`,
    "MIME-Version: 1.0",
    ...(options.headers ?? ["Content-Type: text/plain; charset=utf-8"]),
    "",
    options.body ?? "Hello from support",
  ].join("\r\n");
}

const receive = (to: string, raw: string, from = BUSINESS, rawSize = raw.length) => receiveReply(env, { from, to, rawSize, raw });

const messagesOf = async (appUserId: string) =>
  (await call("GET", `/v1/appusers/${appUserId}/messages`, app.server)).json.messages as Array<Record<string, any>>;

const post = (appUserId: string, body: Record<string, unknown>, owner = app) =>
  call("POST", `/v1/appusers/${appUserId}/messages`, owner.server, { body: { type: "text", ...body } });

/** The email jobs a conversation's outbox holds (the drain held back), oldest first. */
async function emailJobs(appUserId: string): Promise<EmailJob[]> {
  return runInDurableObject(await conversationOf(appUserId), (_instance, state) =>
    state.storage.sql
      .exec<{ job: string }>("SELECT job FROM outbox WHERE channel = 'email' ORDER BY seq")
      .toArray()
      .map((row) => JSON.parse(row.job) as EmailJob),
  );
}

describe("the email integration", () => {
  it("is created with its addresses and fromName, and never shows its key", async () => {
    const owner = await createApp("config");
    const created = await integrate(owner, { to: ["a@business.example", "b@business.example"], fromName: "Acme Support" });
    expect(created.status).toBe(201);
    expect(created.json.integration).toEqual({
      _id: expect.any(String),
      status: "active",
      type: "email",
      to: ["a@business.example", "b@business.example"],
      fromName: "Acme Support",
    });
    const listed = await call("GET", `/v1/apps/${owner.appId}/integrations?types=email`, await account());
    expect(listed.json.integrations).toEqual([created.json.integration]);
    expect(JSON.stringify(listed.json)).not.toContain("tokenKey");
  });

  it("takes 1 to 10 valid addresses, naming the field otherwise", async () => {
    const owner = await createApp("bad config");
    const many = Array.from({ length: 11 }, (_, i) => `a${i}@business.example`);
    for (const to of [[], many, ["not an address"], "a@business.example", undefined]) {
      expectError(await integrate(owner, { to }), 400, "to");
    }
    expectError(await integrate(owner, { to: [BUSINESS], fromName: "" }), 400, "fromName");
  });

  it("is one per app", async () => {
    const owner = await createApp("twice");
    expect((await integrate(owner, { to: [BUSINESS] })).status).toBe(201);
    expect((await integrate(owner, { to: [BUSINESS] })).status).toBe(409);
  });

  it("is not shown to devices, and makes no push jobs", async () => {
    const hold = holdOutboxAlarms();
    const initialized = await call("POST", "/v1/init", app.token, { body: { device: { id: `device-${hexId()}`, platform: "web" } } });
    expect(initialized.status).toBe(200);
    expect(initialized.json.app.integrations).toEqual([]);
    const user = await freshUser(app);
    await post(user.id, { role: "appMaker", text: "no push channel" });
    const pushes = await runInDurableObject(await conversationOf(user.id), (_instance, state) =>
      state.storage.sql.exec("SELECT 1 FROM outbox WHERE channel = 'push'").toArray(),
    );
    expect(pushes).toEqual([]);
    hold.mockRestore();
  });

  it("is refused to anything but an account JWT", async () => {
    const owner = await createApp("creds");
    const refused = await call("POST", `/v1/apps/${owner.appId}/integrations`, owner.server, { body: { type: "email", to: [BUSINESS] } });
    expect([401, 403]).toContain(refused.status);
  });
});

describe("reply tokens", () => {
  const key = newTokenKey();
  const appId = hexId();
  const appUserId = hexId();

  it("make a local part of at most 64 characters that verifies for its conversation only", async () => {
    const local = await replyLocalPart(key, appId, appUserId);
    expect(local.length).toBeLessThanOrEqual(64);
    const claimed = claimedAppUser(local.toUpperCase())!;
    expect(claimed.appUserId).toBe(appUserId);
    expect(await verifyReplyMac(key, appId, appUserId, claimed.mac)).toBe(true);
    expect(await verifyReplyMac(key, appId, hexId(), claimed.mac)).toBe(false);
    expect(await verifyReplyMac(key, hexId(), appUserId, claimed.mac)).toBe(false);
    expect(await verifyReplyMac(newTokenKey(), appId, appUserId, claimed.mac)).toBe(false);
    expect(await verifyReplyMac(key, appId, appUserId, claimed.mac.replace(/.$/, (c) => (c === "0" ? "1" : "0")))).toBe(false);
  });

  it("are not made of anything else", () => {
    for (const local of ["support", `${appUserId}`, `${appUserId}.abc`, `${appUserId}.${"g".repeat(32)}`, "", `x${appUserId}.${"0".repeat(32)}`]) {
      expect(claimedAppUser(local)).toBeNull();
    }
  });
});

describe("quoted-reply stripping", () => {
  it("keeps what Gmail, Outlook and Apple Mail replies say above the quote", async () => {
    const user = await freshUser(app);
    const to = await replyAddress(user.id);
    const samples: Array<[string, string]> = [
      [gmail, "Thanks Ann, your order ships tomorrow."],
      [outlook, "Hello Ann,\n\nWe refunded the second charge."],
      [apple, "Yes, the café opens at 9."],
    ];
    for (const [raw] of samples) {
      const outcome = await receive(to, raw.replaceAll("TOKEN", to.split("@")[0]));
      expect(outcome).toEqual({ stored: [expect.any(String)] });
    }
    expect((await messagesOf(user.id)).map((m) => m.text)).toEqual(samples.map(([, expected]) => expected));
  });

  it("drops > lines, On ... wrote: blocks, Original Message blocks and signatures", () => {
    expect(stripQuotedReply("Yes\n> no\n> maybe")).toBe("Yes");
    expect(stripQuotedReply("Yes\r\n\r\nOn Monday, Ann wrote:\r\n> hi")).toBe("Yes");
    expect(stripQuotedReply("Sure.\n-----Original Message-----\nFrom: x")).toBe("Sure.");
    expect(stripQuotedReply("Sure.\n--\nBob")).toBe("Sure.");
    expect(stripQuotedReply("From: me\nSent: now\nTo: you")).toBe("");
    expect(stripQuotedReply("line one\nline two")).toBe("line one\nline two");
  });

  it("turns HTML into text, quotes and markup dropped, nothing interpreted", () => {
    expect(htmlToText("<p>a &amp; b</p><p>c&#33;</p><script>x</script><blockquote>quoted</blockquote>")).toBe("a & b\nc!");
  });
});

describe("replies", () => {
  it("become appMaker messages with the sender's name and address, and are not emailed back", async () => {
    const hold = holdOutboxAlarms();
    const user = await freshUser(app);
    const outcome = await receive(await replyAddress(user.id), rawReply({ body: "We are on it" }));
    expect(outcome).toEqual({ stored: [expect.any(String)] });
    const [message] = await messagesOf(user.id);
    // The message model keeps a sender's address as its gravatar (src/conversation/compose.ts).
    expect(message).toMatchObject({
      role: "appMaker",
      text: "We are on it",
      name: "Support",
      email: BUSINESS,
      avatarUrl: expect.stringContaining("gravatar.com"),
    });
    expect(await emailJobs(user.id)).toEqual([]);
    hold.mockRestore();
  });

  it("are stored once per Message-ID", async () => {
    const user = await freshUser(app);
    const to = await replyAddress(user.id);
    const raw = rawReply({ messageId: "same" });
    expect(await receive(to, raw)).toEqual({ stored: [expect.any(String)] });
    expect(await receive(to, raw)).toEqual({ ignored: expect.stringContaining("taken before") });
    expect(await messagesOf(user.id)).toHaveLength(1);
  });

  it("store nothing when they hold only quoted text", async () => {
    const user = await freshUser(app);
    expect(await receive(await replyAddress(user.id), rawReply({ body: "> only the quote" }))).toEqual({ ignored: expect.any(String) });
    expect(await messagesOf(user.id)).toEqual([]);
  });

  it("HTML-only are taken as their text", async () => {
    const user = await freshUser(app);
    const to = await replyAddress(user.id);
    expect(await receive(to, htmlOnly)).toEqual({ stored: [expect.any(String)] });
    expect((await messagesOf(user.id))[0].text).toBe("Fish & chips\nare <b>ready</b>");
  });

  it("with an image attachment store it in R2 as an image message", async () => {
    const user = await freshUser(app);
    const to = await replyAddress(user.id);
    const withPublicUrl = { ...env, PUBLIC_URL: "https://parley.test" };
    const raw = rawReply({
      headers: ['Content-Type: multipart/mixed; boundary="b"'],
      body: [
        "--b",
        "Content-Type: text/plain",
        "",
        "Here is the label",
        "--b",
        'Content-Type: application/octet-stream; name="label.png"',
        "Content-Disposition: attachment; filename=label.png",
        "Content-Transfer-Encoding: base64",
        "",
        btoa(String.fromCharCode(...PNG)),
        "--b--",
      ].join("\r\n"),
    });
    const outcome = await receiveReply(withPublicUrl, { from: BUSINESS, to, rawSize: raw.length, raw });
    expect(outcome).toEqual({ stored: [expect.any(String), expect.any(String)] });
    const [text, image] = await messagesOf(user.id);
    expect(text.text).toBe("Here is the label");
    expect(image).toMatchObject({ type: "image", role: "appMaker", mediaType: "image/png" });
    const key = image.mediaUrl.split("/v1/media/")[1];
    expect(new Uint8Array(await (await env.MEDIA.get(key))!.arrayBuffer())).toEqual(PNG);
  });

  it("with another attachment are refused, and nothing is stored", async () => {
    const user = await freshUser(app);
    const raw = rawReply({
      headers: ['Content-Type: multipart/mixed; boundary="b"'],
      body: ["--b", "Content-Type: text/plain", "", "See attached", "--b", "Content-Type: application/pdf", 'Content-Disposition: attachment; filename="a.pdf"', "", "%PDF-1.4", "--b--"].join("\r\n"),
    });
    const outcome = await receiveReply({ ...env, PUBLIC_URL: "https://parley.test" }, { from: BUSINESS, to: await replyAddress(user.id), rawSize: raw.length, raw });
    expect(outcome).toEqual({ rejected: expect.stringContaining("a.pdf") });
    expect(await messagesOf(user.id)).toEqual([]);
  });
});

describe("replies refused", () => {
  it("from a sender who is not one of the integration's addresses", async () => {
    const user = await freshUser(app);
    const outcome = await receive(await replyAddress(user.id), rawReply({ from: "mallory@evil.example" }), "mallory@evil.example");
    expect(outcome).toEqual({ rejected: expect.stringContaining("mallory@evil.example") });
    expect(await messagesOf(user.id)).toEqual([]);
    expect(await isAllowedSender(env, { appId: app.appId, to: [BUSINESS] }, "SUPPORT@business.example")).toBe(true);
  });

  it("from anyone but the integration's addresses and the app's agents: an agent may answer", async () => {
    const agent = "Ana.Agent@business.example";
    expect(await isAllowedSender(env, { appId: app.appId, to: [BUSINESS] }, agent)).toBe(false);
    expect((await call("POST", `/v1/apps/${app.appId}/agents`, await account(), { body: { email: agent, name: "Ana" } })).status).toBe(201);
    expect(await isAllowedSender(env, { appId: app.appId, to: [BUSINESS] }, "ana.agent@BUSINESS.example")).toBe(true);
    const user = await freshUser(app);
    const outcome = await receive(await replyAddress(user.id), rawReply({ from: agent }), agent);
    expect(outcome).not.toHaveProperty("rejected");
    expect(await messagesOf(user.id)).toHaveLength(1);
  });

  it("to unknown or malformed local parts, another domain, or a forged token", async () => {
    const user = await freshUser(app);
    const good = await replyAddress(user.id);
    const [local] = good.split("@");
    const forged = `${user.id}.${"0".repeat(32)}@${DOMAIN}`;
    for (const to of [`support@${DOMAIN}`, `@${DOMAIN}`, "no-at-sign", `${local}@other.example`, forged, `${hexId()}.${local.split(".")[1]}@${DOMAIN}`]) {
      expect(await receive(to, rawReply()), to).toEqual({ rejected: expect.stringContaining("no conversation") });
    }
    expect(await messagesOf(user.id)).toEqual([]);
  });

  it("of 25 MB or more, before reading them", async () => {
    const user = await freshUser(app);
    expect(await receive(await replyAddress(user.id), rawReply(), BUSINESS, MAX_EMAIL_BYTES + 1)).toEqual({ rejected: expect.stringContaining("too large") });
  });

  it("that are not MIME", async () => {
    const user = await freshUser(app);
    expect(await receive(await replyAddress(user.id), "\u0000\u0001 not a message")).toEqual({ rejected: expect.stringMatching(/malformed/) });
    expect(await receive(await replyAddress(user.id), rawReply().replace(/^Message-ID:.*\r\n/m, ""))).toEqual({ rejected: expect.stringMatching(/Message-ID/) });
  });

  it("to a deleted user (a valid token), or once the app or integration is deleted", async () => {
    const user = await freshUser(app);
    const to = await replyAddress(user.id);
    expect((await call("DELETE", `/v1/appusers/${user.id}`, app.server)).status).toBe(200);
    expect(await receive(to, rawReply())).toEqual({ rejected: expect.stringContaining("no conversation") });

    const owner = await createApp("gone");
    const integration = await integrate(owner, { to: [BUSINESS] });
    const other = await freshUser(owner);
    const address = await replyAddress(other.id, owner);
    await call("DELETE", `/v1/apps/${owner.appId}/integrations/${integration.json.integration._id}`, await account());
    expect(await receive(address, rawReply())).toEqual({ rejected: expect.stringContaining("no conversation") });
  });
});

describe("emails", () => {
  async function sendJobs(appUserId: string) {
    const jobs = await emailJobs(appUserId);
    return runQueue<EmailJob>("parley-email", jobs.map((body) => ({ body })));
  }

  it("are sent for each appUser message, threaded, the first with the user's profile, each once", async () => {
    const hold = holdOutboxAlarms();
    const send = vi.spyOn(env.EMAIL, "send");
    const user = await freshUser(app, { givenName: "Ann", email: "ann@example.com", properties: { plan: "pro" } });
    await call("POST", `/v1/appusers/${user.id}/conversation/messages`, app.server, { body: { role: "appMaker", type: "text", text: "not emailed" } });
    expect((await post(user.id, { role: "appUser", text: "Where is <b>my</b> order?" })).status).toBe(201);
    expect((await post(user.id, { role: "appUser", text: "Hello?" })).status).toBe(201);
    const first = await sendJobs(user.id);
    expect(first.result.explicitAcks).toHaveLength(2);
    expect(send).toHaveBeenCalledTimes(2);
    const [one, two] = send.mock.calls.map(([message]) => message as EmailMessageBuilder);
    const address = await replyAddress(user.id);
    expect(one).toMatchObject({ to: [BUSINESS], replyTo: address, from: { name: "Ann via Acme", email: address }, subject: "Conversation with Ann (Acme)" });
    expect(one.text).toContain("Where is <b>my</b> order?");
    expect(one.html).toContain("Where is &lt;b&gt;my&lt;/b&gt; order?");
    expect(one.text).toContain(`userId: ${user.userId}`);
    expect(one.text).toContain("properties.plan: pro");
    expect(two.subject).toBe(one.subject);
    expect(two.text).not.toContain("userId");
    const root = (await send.mock.results[0].value).messageId as string;
    expect(two.headers).toMatchObject({ "In-Reply-To": expect.stringContaining(root.replace(/[<>]/g, "")), References: expect.stringContaining(root.replace(/[<>]/g, "")) });
    // Each email names its Parley message: a copy resent after a crash carries the same value.
    const messages = (await call("GET", `/v1/appusers/${user.id}/messages`, app.server)).json.messages as Array<{ _id: string; text: string }>;
    const ids = ["Where is <b>my</b> order?", "Hello?"].map((text) => messages.find((m) => m.text === text)!._id);
    expect([one, two].map((email) => email.headers?.["X-Parley-Message-Id"])).toEqual(ids);

    // Delivered again (an ack lost): nothing more is sent.
    await sendJobs(user.id);
    expect(send).toHaveBeenCalledTimes(2);
    hold.mockRestore();
  });

  it("that fail are retried with backoff, their trouble recorded, and a dead letter recorded as failed", async () => {
    const hold = holdOutboxAlarms();
    const user = await freshUser(app);
    await post(user.id, { role: "appUser", text: "retry me" });
    const [job] = await emailJobs(user.id);
    const failure = () => env.DB.prepare("SELECT attempts, last_error, outcome FROM email_failures WHERE message_id = ?").bind(job.messageId).first();
    vi.spyOn(env.EMAIL, "send").mockRejectedValueOnce(new Error("mail service unavailable"));
    const failed = await runQueue<EmailJob>("parley-email", [{ body: job }]);
    expect(failed.retries).toEqual([{ msgId: "msg-0", options: { delaySeconds: 10 } }]);
    expect(await failure()).toEqual({ attempts: 1, last_error: "mail service unavailable", outcome: "retrying" });
    vi.restoreAllMocks();

    await runQueue<EmailJob>("parley-email", [{ body: job, attempts: 2 }]);
    expect(await failure()).toBeNull();

    await runQueue<EmailJob>("parley-email-dlq", [{ body: job }]);
    expect(await failure()).toMatchObject({ outcome: "failed" });
    hold.mockRestore();
  });

  it("stop once the user is deleted", async () => {
    const hold = holdOutboxAlarms();
    const user = await freshUser(app);
    await post(user.id, { role: "appUser", text: "hi" });
    const jobs = await emailJobs(user.id);
    expect(jobs).toHaveLength(1);
    await call("DELETE", `/v1/appusers/${user.id}`, app.server);
    const send = vi.spyOn(env.EMAIL, "send");
    await runQueue<EmailJob>("parley-email", jobs.map((body) => ({ body })));
    expect(send).not.toHaveBeenCalled();
    hold.mockRestore();
  });

  it("are not made for an app without an email integration", async () => {
    const hold = holdOutboxAlarms();
    const owner = await createApp("no email");
    const user = await freshUser(owner);
    await post(user.id, { role: "appUser", text: "hi" }, owner);
    expect(await emailJobs(user.id)).toEqual([]);
    hold.mockRestore();
  });

  it("link an image by its mediaUrl, and escape what the user wrote in HTML", () => {
    const parts: EmailParts = {
      domain: DOMAIN,
      businessName: "Acme",
      to: [BUSINESS],
      replyLocalPart: "x",
      user: { id: "u", appId: "a", userId: null, conversationId: "c", givenName: null, surname: null, email: null, signedUpAt: "", properties: {}, conversationStarted: true, credentialRequired: false },
      message: { messageId: "m1", type: "image", text: "https://parley.test/v1/media/k.png", mediaUrl: "https://parley.test/v1/media/k.png", name: '"Evil"\r\nBcc: x' },
      thread: { subject: "kept", rootMessageId: "<r@x>", lastMessageId: "<l@x>" },
      devices: [],
    };
    const email = composeEmail(parts);
    expect(email.text).toContain("Image: https://parley.test/v1/media/k.png");
    expect(email.subject).toBe("kept");
    expect((email.from as EmailAddress).name).not.toMatch(/[\r\n"]/);
    expect(email.headers).toEqual({ "In-Reply-To": "<l@x>", References: "<r@x> <l@x>", "X-Parley-Message-Id": "m1" });
  });
});
