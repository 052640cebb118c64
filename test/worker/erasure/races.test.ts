// Issue 21, findings 3, 4 and 6: an erase is atomic with respect to appends, the media trash
// survives R2 errors, and an erase deletes only the images its users uploaded.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { Conversation } from "../../../src/conversation/object/conversation";
import type { NewMessage } from "../../../src/model/message";
import { BASE, call, conversationOf, createApp, expectError, freshUser, hexId, holdOutboxAlarms, textMessages, type TestApp } from "../support/helpers";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 1]);

let app: TestApp;

beforeAll(async () => {
  app = await createApp("erasure races");
  await call("POST", "/v1/webhooks", app.server, { body: { target: "https://hooks.example.com/races" } });
});

afterEach(() => {
  vi.restoreAllMocks();
});

async function upload(owner: TestApp, appUserId: string, role = "appUser") {
  const data = new FormData();
  data.append("source", new File([PNG], "image.png", { type: "image/png" }));
  data.append("role", role);
  return call("POST", `/v1/appusers/${appUserId}/images`, role === "appUser" ? owner.token : owner.server, { raw: data });
}

const keyOf = (mediaUrl: string) => new URL(mediaUrl).pathname.split("/").pop()!;

/** A stored image as an upload by `appUserId` of `appId` leaves it. */
async function storedImage(appId: string, appUserId: string) {
  const key = `${hexId()}${hexId()}.png`;
  await env.MEDIA.put(key, PNG, { customMetadata: { appId, appUserId } });
  return { key, url: `${BASE}/v1/media/${key}` };
}

const imageMessage = (authorId: string, mediaUrl: string): NewMessage => ({
  ...textMessages(authorId, 1)[0],
  type: "image",
  mediaUrl,
  mediaType: "image/png",
});

const tableCounts = (stub: DurableObjectStub<Conversation>) =>
  runInDurableObject(stub, (_instance, state) => {
    const count = (table: string) => state.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n;
    const pushes = state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE channel = 'push'").one().n;
    return { messages: count("messages"), outbox: count("outbox"), pushes, trash: count("media_trash") };
  });

describe("an erase racing appends (finding 3)", () => {
  it("an append that arrives once the erase has begun is refused and stores nothing", async () => {
    const user = await freshUser(app);
    const stub = await conversationOf(user.id);
    const image = await storedImage(app.appId, user.id);
    const outcome = await runInDurableObject(stub, async (instance) => {
      // The erase's first await (R2, D1) lets the append in: it must already find the mark.
      const erasing = instance.erase(app.appId, [user.id]);
      const appending = instance.append([imageMessage(user.id, image.url)]).then(
        () => "stored",
        (error: Error) => error.message,
      );
      await erasing;
      return appending;
    });
    expect(outcome).toMatch(/erased/);
    expect(await tableCounts(stub)).toEqual({ messages: 0, outbox: 0, pushes: 0, trash: 0 });
  });

  it("a post that loses the race over HTTP answers 404, and its uploaded image is removed", async () => {
    const user = await freshUser(app);
    const append = Conversation.prototype.append;
    // The deletion lands between the route's upload to R2 and its append.
    Conversation.prototype.append = async function (this: Conversation, ...args) {
      const erasing = this.erase(app.appId, [user.id]);
      const appending = append.apply(this, args);
      await Promise.allSettled([erasing, appending]);
      return appending;
    };
    const refused = await upload(app, user.id).finally(() => {
      Conversation.prototype.append = append;
    });
    expectError(refused, 404, "appUserId");
    const left = await env.MEDIA.list({ include: ["customMetadata"] });
    expect(left.objects.filter((o) => o.customMetadata?.appUserId === user.id)).toEqual([]);
  });

  it("everything appended before the mark goes with it: messages, images, outbox and push jobs, tombstoned ids", async () => {
    const user = await freshUser(app);
    const stub = await conversationOf(user.id);
    const image = await storedImage(app.appId, user.id);
    holdOutboxAlarms();
    const stored = await call("POST", `/v1/appusers/${user.id}/messages`, app.server, {
      body: { role: "appMaker", text: "look", mediaUrl: image.url, mediaType: "image/png" },
    });
    expect(stored.status).toBe(201);
    await runInDurableObject(stub, (instance) => instance.erase(app.appId, [user.id]));
    expect(await tableCounts(stub)).toEqual({ messages: 0, outbox: 0, pushes: 0, trash: 0 });
    expect(await env.MEDIA.head(image.key)).toBeNull();
    const tombstone = await env.DB.prepare("SELECT 1 FROM erased_messages WHERE message_id = ?").bind(stored.json.message._id).first();
    expect(tombstone).not.toBeNull();
  });

  it("jobs a drain was sending when the erase began reach the queue before the erase writes the tombstones that drop them", async () => {
    const user = await freshUser(app);
    const stub = await conversationOf(user.id);
    const order = await runInDurableObject(stub, async (instance) => {
      const order: string[] = [];
      const sent = Promise.withResolvers<void>();
      const outbox = (instance as unknown as { outbox: { queueOf: (channel: unknown) => Queue } }).outbox;
      const queue = {
        sendBatch: async () => {
          await sent.promise;
          order.push("enqueued");
          return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as unknown as QueueSendBatchResponse;
        },
      } as unknown as Queue;
      vi.spyOn(outbox, "queueOf").mockReturnValue(queue);
      const fanout = { appUser: { _id: user.id }, webhooks: [{ id: "hook", triggers: ["message:appUser" as const] }] };
      await instance.append(textMessages(user.id, 1), { webhook: fanout });
      const erasing = instance.erase(app.appId, [user.id]).then(() => order.push("erased"));
      await new Promise((resolve) => setTimeout(resolve, 20));
      order.push("released");
      sent.resolve();
      await erasing;
      return order;
    });
    expect(order).toEqual(["released", "enqueued", "erased"]);
  });
});

describe("the media trash under R2 errors (finding 4)", () => {
  it.each([["head"], ["delete"]] as const)("keeps an image whose %s failed, and the alarm deletes it", async (method) => {
    const user = await freshUser(app);
    const stub = await conversationOf(user.id);
    const image = await storedImage(app.appId, user.id);
    await stub.append([imageMessage(user.id, image.url)]);
    const failing = await runInDurableObject(stub, async (instance) => {
      const bucket = (instance as unknown as { trash: { bucket: R2Bucket } }).trash.bucket;
      vi.spyOn(bucket, method).mockRejectedValueOnce(new Error("R2 is having a moment"));
      return instance.eraseMessages(app.appId, [user.id]).then(
        () => "erased",
        (error: Error) => error.message,
      );
    });
    expect(failing).toMatch(/R2/);
    expect(await env.MEDIA.head(image.key)).not.toBeNull();
    expect((await tableCounts(stub)).trash).toBe(1);
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).not.toBeNull();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await env.MEDIA.head(image.key)).toBeNull();
    expect((await tableCounts(stub)).trash).toBe(0);
  });

  it("a failing alarm sets itself again rather than leaving it to the runtime, which gives up", async () => {
    const user = await freshUser(app);
    const stub = await conversationOf(user.id);
    const image = await storedImage(app.appId, user.id);
    await stub.append([imageMessage(user.id, image.url)]);
    await runInDurableObject(stub, async (instance) => {
      const bucket = (instance as unknown as { trash: { bucket: R2Bucket } }).trash.bucket;
      vi.spyOn(bucket, "head").mockRejectedValue(new Error("R2 is down"));
      await instance.eraseMessages(app.appId, [user.id]).catch(() => undefined);
      await instance.alarm();
      expect(await (instance as unknown as { ctx: DurableObjectState }).ctx.storage.getAlarm()).not.toBeNull();
      vi.mocked(bucket.head).mockRestore();
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await env.MEDIA.head(image.key)).toBeNull();
  });
});

describe("images by ownership (finding 6)", () => {
  it("erasing a user keeps a same-app image another user uploaded, which the user's message named", async () => {
    const [owner, poster] = [await freshUser(app), await freshUser(app)];
    const uploaded = await upload(app, owner.id);
    expect(uploaded.status).toBe(201);
    const mediaUrl: string = uploaded.json.message.mediaUrl;
    const reposted = await call("POST", `/v1/appusers/${poster.id}/messages`, app.token, {
      body: { role: "appUser", text: "look", mediaUrl, mediaType: "image/png" },
    });
    expect(reposted.status).toBe(201);
    expect((await call("DELETE", `/v1/appusers/${poster.id}/messages/${reposted.json.message._id}`, app.server)).status).toBe(200);
    expect((await call("DELETE", `/v1/appusers/${poster.id}`, app.server)).status).toBe(200);
    expect(await env.MEDIA.head(keyOf(mediaUrl))).not.toBeNull();
    expect((await call("DELETE", `/v1/appusers/${owner.id}`, app.server)).status).toBe(200);
    expect(await env.MEDIA.head(keyOf(mediaUrl))).toBeNull();
  });

  it("erasing a user deletes what the business uploaded to their conversation", async () => {
    const user = await freshUser(app);
    const uploaded = await upload(app, user.id, "appMaker");
    expect(uploaded.status).toBe(201);
    expect((await call("DELETE", `/v1/appusers/${user.id}`, app.server)).status).toBe(200);
    expect(await env.MEDIA.head(keyOf(uploaded.json.message.mediaUrl))).toBeNull();
  });

  it("a URL no upload could have is never looked up in R2", async () => {
    const user = await freshUser(app);
    const stub = await conversationOf(user.id);
    await stub.append([imageMessage(user.id, `${BASE}/v1/media/${"x".repeat(2000)}.png`)]);
    await stub.eraseMessages(app.appId, [user.id]);
    expect((await tableCounts(stub)).trash).toBe(0);
  });
});
