// Webhooks and image uploads end to end: smooch-core 1.5.0 against `wrangler dev`, with deliveries
// going through the real local queue to an HTTP server this file runs on loopback.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep } from "../support/pace.ts";
import { api, baseUrl, createApp, HEX_ID, options, refusal, SmoochCore, until } from "./client.ts";

/** How long a hook must stay silent before "it was not sent there" is believed. */
const QUIET_MS = 2_000;
/**
 * How long after a delivery's 200 no further attempt may come: a wrong fourth attempt would be
 * due 4 s (4 x base) plus the queue's 1 s batch window after the third.
 */
const AFTER_LAST_MS = 6_000;

// --- The webhook target: records every request and answers as each path's script says. ---

interface Received {
  /** performance.now() when the whole body had arrived. */
  at: number;
  method: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

let server: Server;
let targetOrigin: string;
const received = new Map<string, Received[]>();
/** Statuses a path answers with, in turn; once used up, the path answers 200. */
const scripts = new Map<string, number[]>();
let paths = 0;

/** A fresh path on the target, so that each webhook's requests are kept apart. */
function newTarget(name: string, script: number[] = []) {
  const path = `/hooks/${++paths}-${name}`;
  received.set(path, []);
  scripts.set(path, [...script]);
  return { url: `${targetOrigin}${path}`, requests: () => received.get(path)! };
}

const bodyOf = (request: Received) => JSON.parse(request.raw.toString("utf8"));

/** Verifies `X-Parley-Signature` as the README tells receivers to: HMAC-SHA256 of "t.rawBody" keyed with the signing secret. */
function signatureVerifies(request: Received, secret: string): boolean {
  const header = String(request.headers["x-parley-signature"] ?? "");
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!match) return false;
  const [, t, v1] = match;
  const expected = createHmac("sha256", secret).update(`${t}.`).update(request.raw).digest();
  return timingSafeEqual(Buffer.from(v1, "hex"), expected);
}

// --- Apps: one per test, so that no test's webhooks hear another test's messages. ---

let apps = 0;

async function newApp() {
  const app = await createApp(`webhooks e2e ${++apps}`);
  return {
    /** The app's server. */
    asApp: new SmoochCore({ keyId: app.keyId, secret: app.secret, scope: "app" }, options),
    /** A device or browser. */
    withToken: new SmoochCore({ appToken: app.appToken }, options),
    appJwt: app.appJwt,
  };
}

async function newUser(client: any, userId: string) {
  const device = { id: `device-${userId}`, platform: "ios", appVersion: "1.0" };
  return (await client.appUsers.init({ device, userId })).appUser;
}

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const path = request.url ?? "";
      received.get(path)?.push({ at: performance.now(), method: request.method ?? "", headers: request.headers, raw: Buffer.concat(chunks) });
      const status = scripts.get(path)?.shift() ?? (received.has(path) ? 200 : 404);
      response.writeHead(status, { "content-type": "text/plain" }).end(String(status));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  targetOrigin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  if (!server) return;
  // The worker may hold keep-alive connections, which would keep close() waiting.
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("webhooks through smooch-core 1.5.0 and wrangler dev", () => {
  it("create, list, get, update and delete a webhook", async () => {
    const { asApp } = await newApp();
    const first = newTarget("crud-first");
    const second = newTarget("crud-second");

    const { webhook: created } = await asApp.webhooks.create({ target: first.url });
    // The signing secret is shown at creation only; every later read leaves it out.
    const { signingSecret, ...webhook } = created;
    expect(signingSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(webhook).toEqual({
      _id: expect.stringMatching(HEX_ID),
      target: first.url,
      triggers: ["message"],
      secret: expect.stringMatching(/^[0-9a-f]{40}$/),
    });
    expect((await asApp.webhooks.list()).webhooks).toEqual([webhook]);
    expect((await asApp.webhooks.get(webhook._id)).webhook).toEqual(webhook);

    const changes = { target: second.url, triggers: ["message:appUser", "message:appMaker"] };
    const updated = { ...webhook, ...changes };
    expect((await asApp.webhooks.update(webhook._id, changes)).webhook).toEqual(updated);
    expect((await asApp.webhooks.get(webhook._id)).webhook).toEqual(updated);

    await asApp.webhooks.delete(webhook._id);
    expect(await refusal(asApp.webhooks.get(webhook._id))).toBe(404);
    expect((await asApp.webhooks.list()).webhooks).toEqual([]);
  });

  it("an appUser message reaches the target with its trigger, body, X-API-Key, delivery id and a signature that verifies", async () => {
    const { asApp, withToken } = await newApp();
    const target = newTarget("payload");
    const { webhook } = await asApp.webhooks.create({ target: target.url, triggers: ["message:appUser"] });
    const userId = "payload@example.com";
    const user = await newUser(withToken, userId);
    await withToken.appUsers.update(userId, { givenName: "Pay", surname: "Load", properties: { plan: "pro" } });

    const { message } = await withToken.conversations.sendMessage(userId, { role: "appUser", text: "Is anyone there?" });

    const [request] = await until("the delivery", () => target.requests().length > 0 && target.requests());
    expect(request.method).toBe("POST");
    expect(request.headers["content-type"]).toMatch(/^application\/json/);
    expect(request.headers["x-api-key"]).toBe(webhook.secret);
    expect(request.headers["x-parley-delivery"]).toEqual(expect.any(String));
    expect(request.headers["x-parley-delivery"]).not.toBe("");
    expect(signatureVerifies(request, webhook.signingSecret)).toBe(true);
    // Recent, so that a receiver rejecting old timestamps (replays) accepts it.
    const t = Number(/^t=(\d+),/.exec(String(request.headers["x-parley-signature"]))?.[1]);
    expect(Math.abs(t - Date.now() / 1000)).toBeLessThan(60);
    // The signature covers the exact bytes: a receiver would catch a changed body.
    const tampered = { ...request, raw: Buffer.concat([request.raw, Buffer.from(" ")]) };
    expect(signatureVerifies(tampered, webhook.signingSecret)).toBe(false);
    expect(bodyOf(request)).toEqual({
      trigger: "message:appUser",
      messages: [message],
      appUser: expect.objectContaining({
        _id: user._id,
        userId,
        givenName: "Pay",
        surname: "Load",
        properties: { plan: "pro" },
      }),
    });
  });

  it(
    "a target answering 500, 500, then 200 gets exactly three attempts of one delivery, further and further apart",
    async () => {
      const { asApp, withToken, appJwt } = await newApp();
      const target = newTarget("retry", [500, 500]);
      const { webhook } = await asApp.webhooks.create({ target: target.url });
      const userId = "retry@example.com";
      await newUser(withToken, userId);

      const { message } = await withToken.conversations.sendMessage(userId, { role: "appUser", text: "retry me" });

      await until("three attempts", () => target.requests().length >= 3);
      // A fourth attempt would come after the 200, which must end the delivery.
      await sleep(AFTER_LAST_MS);
      const attempts = target.requests();
      expect(attempts).toHaveLength(3);

      const [deliveryId] = attempts.map((a) => a.headers["x-parley-delivery"]);
      for (const attempt of attempts) {
        expect(attempt.headers["x-parley-delivery"]).toBe(deliveryId);
        expect(attempt.raw.equals(attempts[0].raw)).toBe(true);
        expect(signatureVerifies(attempt, webhook.signingSecret)).toBe(true);
      }
      expect(bodyOf(attempts[0]).messages).toEqual([message]);

      const [gap1, gap2] = [attempts[1].at - attempts[0].at, attempts[2].at - attempts[1].at];
      expect(gap2, `gaps ${Math.round(gap1)} ms, ${Math.round(gap2)} ms`).toBeGreaterThan(gap1);

      // The record is written after the target answers: poll for it.
      const path = `/v1/webhooks/${webhook._id}/deliveries`;
      const deliveries = await until("the delivered record", async () => {
        const { deliveries } = await api("GET", path, appJwt);
        return deliveries[0]?.outcome === "delivered" && deliveries;
      });
      expect(deliveries).toEqual([
        expect.objectContaining({
          _id: deliveryId,
          messageId: message._id,
          trigger: "message:appUser",
          attempts: 3,
          lastStatus: 200,
          outcome: "delivered",
        }),
      ]);
    },
    30_000,
  );

  it("message:appMaker hooks stay silent for appUser messages, message:appUser hooks for appMaker ones, message hears both", async () => {
    const { asApp, withToken } = await newApp();
    const hooks = {
      appMaker: newTarget("only-appmaker"),
      appUser: newTarget("only-appuser"),
      all: newTarget("all"),
    };
    await asApp.webhooks.create({ target: hooks.appMaker.url, triggers: ["message:appMaker"] });
    await asApp.webhooks.create({ target: hooks.appUser.url, triggers: ["message:appUser"] });
    await asApp.webhooks.create({ target: hooks.all.url });
    const userId = "triggers@example.com";
    await newUser(withToken, userId);

    const fromUser = (await withToken.conversations.sendMessage(userId, { role: "appUser", text: "from the user" })).message;
    const fromApp = (await asApp.conversations.sendMessage(userId, { role: "appMaker", text: "from the app" })).message;

    await until("both messages at the message hook", () => hooks.all.requests().length >= 2);
    await until("the other hooks' deliveries", () => hooks.appMaker.requests().length >= 1 && hooks.appUser.requests().length >= 1);
    // A wrongly routed delivery would be in the same queue batches; give stragglers time anyway.
    await sleep(QUIET_MS);

    const heard = (target: { requests: () => Received[] }) =>
      target.requests().map((request) => [bodyOf(request).trigger, bodyOf(request).messages[0]._id]);
    expect(heard(hooks.appMaker)).toEqual([["message:appMaker", fromApp._id]]);
    expect(heard(hooks.appUser)).toEqual([["message:appUser", fromUser._id]]);
    expect(heard(hooks.all)).toEqual([
      ["message:appUser", fromUser._id],
      ["message:appMaker", fromApp._id],
    ]);
  });

  it("deliveries of several messages to one conversation arrive in the conversation's order", async () => {
    const { asApp, withToken } = await newApp();
    const target = newTarget("order");
    await asApp.webhooks.create({ target: target.url });
    const userId = "order@example.com";
    const user = await newUser(withToken, userId);

    // Sent together, so that they queue up in the conversation and leave the outbox in batches.
    const sends = Array.from({ length: 8 }, (_, i) =>
      i % 3 === 2
        ? asApp.conversations.sendMessage(userId, { role: "appMaker", text: `app ${i}` })
        : withToken.conversations.sendMessage(userId, { role: "appUser", text: `user ${i}` }),
    );
    const sent = (await Promise.all(sends)).map(({ message }) => message._id);

    const { conversation } = await asApp.conversations.get(user._id);
    const stored = conversation.messages.map((m: any) => m._id);
    expect([...stored].sort()).toEqual([...sent].sort());

    await until("all deliveries", () => target.requests().length >= sent.length);
    expect(target.requests().map((request) => bodyOf(request).messages[0]._id)).toEqual(stored);
  });
});

describe("image uploads through smooch-core 1.5.0 and wrangler dev", () => {
  // A complete 1x1 greyscale PNG (valid chunk CRCs), so that any image check accepts it.
  const PNG = Buffer.from(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=",
    "base64",
  );

  it("uploadImage posts the image as a message whose mediaUrl serves the same bytes as image/png", async () => {
    const { withToken } = await newApp();
    const userId = "image@example.com";
    const user = await newUser(withToken, userId);
    // The client appends `source` to the global FormData and hands it to the global fetch; on
    // Node 22 both are the platform's, which sends a Blob as a file part with its type.
    const source = new Blob([PNG], { type: "image/png" });

    const { message, conversation } = await withToken.conversations.uploadImage(userId, source, { role: "appUser" });
    expect(message).toMatchObject({
      _id: expect.stringMatching(HEX_ID),
      role: "appUser",
      authorId: user._id,
      mediaType: "image/png",
      mediaUrl: expect.stringMatching(new RegExp(`^${baseUrl.replace(/[.]/g, "\\.")}/`)),
    });
    expect(message.text).toBe(message.mediaUrl);
    expect(conversation.messages.at(-1)).toEqual(message);

    const media = await fetch(message.mediaUrl);
    expect(media.status).toBe(200);
    expect(media.headers.get("content-type")).toBe("image/png");
    expect(media.headers.get("x-content-type-options")).toBe("nosniff");
    expect(Buffer.from(await media.arrayBuffer()).equals(PNG)).toBe(true);
  });
});
