// The realtime channel end to end: the `faye` npm client (Bayeux) against `wrangler dev`, over
// WebSocket and over long-polling, with subscriptions authorised as the widget does it.
import Faye from "faye";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../support/apps.ts";
import { sleep } from "../support/pace.ts";
import { api, baseUrl, createApp } from "./client.ts";

type Transport = "websocket" | "long-polling";

interface User {
  _id: string;
  channel: string;
}

let app: App;
const clients: Faye.Client[] = [];

/** A faye client that signs its subscriptions with `ext`, as the 3.x widget does. */
function client(transport: Transport, ext: () => Record<string, unknown>) {
  const faye = new Faye.Client(`${baseUrl}/faye`, { timeout: 30, retry: 1 });
  if (transport === "long-polling") faye.disable("websocket");
  faye.addExtension({
    outgoing(message: any, callback: (message: unknown) => void) {
      if (message.channel === "/meta/subscribe") message.ext = ext();
      callback(message);
    },
  });
  clients.push(faye);
  return faye;
}

async function newUser(): Promise<User> {
  const headers = { "app-token": app.appToken, "content-type": "application/json" };
  const init = await (await fetch(`${baseUrl}/v1/init`, { method: "POST", headers, body: JSON.stringify({ device: { id: crypto.randomUUID(), platform: "web" } }) })).json();
  const id = init.appUser._id;
  const posted = await (await fetch(`${baseUrl}/v1/appusers/${id}/messages`, { method: "POST", headers, body: JSON.stringify({ role: "appUser", text: "hello" }) })).json();
  return { _id: id, channel: `/v1/conversations/${posted.conversation._id}` };
}

const reply = (user: User, text: string) => api("POST", `/v1/appusers/${user._id}/messages`, app.appJwt, { role: "appMaker", text });

const history = async (user: User) =>
  (await (await fetch(`${baseUrl}/v1/appusers/${user._id}/messages`, { headers: { "app-token": app.appToken } })).json()).messages as { text: string; received: number }[];

/** Resolves with the texts once `count` have arrived. */
function collector() {
  const texts: string[] = [];
  const waiters: (() => void)[] = [];
  return {
    texts,
    take: (message: { text: string }) => {
      texts.push(message.text);
      for (const wake of waiters.splice(0)) wake();
    },
    async atLeast(count: number, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (texts.length < count) {
        if (Date.now() > deadline) throw new Error(`got ${JSON.stringify(texts)}, expected ${count}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
      return texts;
    },
  };
}

beforeAll(async () => {
  app = await createApp("realtime e2e");
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.disconnect()));
});

describe.each<Transport>(["websocket", "long-polling"])("over %s", (transport) => {
  it("delivers a business reply posted over REST, in order, well under a second", async () => {
    const user = await newUser();
    const got = collector();
    const faye = client(transport, () => ({ appUserId: user._id, appToken: app.appToken }));
    await faye.subscribe(user.channel, got.take);
    const started = performance.now();
    await reply(user, "one");
    await got.atLeast(1);
    const latency = performance.now() - started;
    await reply(user, "two");
    await reply(user, "three");
    expect(await got.atLeast(3)).toEqual(["one", "two", "three"]);
    console.log(`${transport}: REST post to receipt ${latency.toFixed(0)} ms`);
    expect(latency).toBeLessThan(1_000);
  });

  it("refuses a subscription with another user's id, and delivers nothing on it", async () => {
    const [user, stranger] = [await newUser(), await newUser()];
    const got = collector();
    const faye = client(transport, () => ({ appUserId: stranger._id, appToken: app.appToken }));
    await expect(faye.subscribe(user.channel, got.take)).rejects.toMatchObject({ code: 403 });
    await reply(user, "private");
    await sleep(500);
    expect(got.texts).toEqual([]);
  });

  it("refuses a subscription with a wrong app token", async () => {
    const user = await newUser();
    const faye = client(transport, () => ({ appUserId: user._id, appToken: "not-the-token" }));
    await expect(faye.subscribe(user.channel, () => {})).rejects.toMatchObject({ code: 403 });
  });
});

describe("a client whose connection drops", () => {
  it("handshakes again, resubscribes, gets what is published after, and the REST history has what it missed, in order", async () => {
    const user = await newUser();
    const got = collector();
    const faye = client("websocket", () => ({ appUserId: user._id, appToken: app.appToken }));
    await faye.subscribe(user.channel, got.take);
    await reply(user, "before the drop");
    await got.atLeast(1);

    let up = 0;
    faye.on("transport:up", () => up++);
    // Cut the socket from under the client, as a network drop would.
    const sockets = (faye as any)._dispatcher.transports.websocket as Map<string, { _socket?: { close(): void } }>;
    for (const transport of sockets.values()) transport._socket?.close();
    await reply(user, "during the gap");
    const deadline = Date.now() + 15_000;
    while (up === 0 && Date.now() < deadline) await sleep(100);
    expect(up).toBeGreaterThan(0);

    // Resubscribed by the rehandshake: what follows arrives.
    let after = 0;
    while (!got.texts.includes("after the reconnect") && Date.now() < deadline) {
      await reply(user, "after the reconnect");
      after++;
      await sleep(300);
    }
    expect(got.texts).toContain("after the reconnect");
    const texts = (await history(user)).map((m) => m.text);
    expect(texts).toEqual(["hello", "before the drop", "during the gap", ...Array(after).fill("after the reconnect")]);
  }, 30_000);
});
