// The messenger's Bayeux client against a scripted /faye, on Node: a fake WebSocket and fetch.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BayeuxClient } from "../../src/browser/messenger/bayeux.ts";

type Frame = Record<string, any>;

class FakeSocket {
  static readonly OPEN = 1;
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: Frame[] = [];
  closed = false;
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(...JSON.parse(data));
  }
  close() {
    this.closed = true;
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  deliver(frames: Frame[]) {
    this.onmessage?.({ data: JSON.stringify(frames) });
  }
  /** Answers every connect and subscribe it was sent that is still unanswered. */
  answerAll() {
    const answered = this.sent.splice(0);
    this.deliver(answered.map((f) => ({ channel: f.channel, id: f.id, clientId: f.clientId, successful: true, ...(f.subscription && { subscription: f.subscription }) })));
  }
}

/** HTTP requests to /faye: each batch, answered by `answer` (a held connect never answers). */
let posts: Frame[][];
let clientIds: number;
function answer(frames: Frame[]): Frame[] | null {
  if (frames.some((f) => f.channel === "/meta/connect" && !f.advice)) return null; // held
  return frames.map((f) =>
    f.channel === "/meta/handshake"
      ? { channel: f.channel, id: f.id, successful: true, clientId: `client-${++clientIds}`, supportedConnectionTypes: ["websocket", "long-polling"] }
      : { channel: f.channel, id: f.id, clientId: f.clientId, successful: true, ...(f.subscription && { subscription: f.subscription }) },
  );
}

async function until(condition: () => boolean, what: string) {
  const deadline = Date.now() + 2_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function client() {
  const statuses: boolean[] = [];
  const received: unknown[] = [];
  const bayeux = new BayeuxClient({ url: "https://parley.test/faye", ext: () => ({ appUserId: "u1", appToken: "t1" }), onStatus: (up) => statuses.push(up) });
  bayeux.subscribe("/v1/conversations/c1", (data) => received.push(data));
  return { bayeux, statuses, received };
}

beforeEach(() => {
  posts = [];
  clientIds = 0;
  FakeSocket.all = [];
  vi.stubGlobal("WebSocket", FakeSocket);
  vi.stubGlobal("fetch", async (_url: string, init: { body: string; signal?: AbortSignal }) => {
    const frames = JSON.parse(init.body) as Frame[];
    posts.push(frames);
    const reply = answer(frames);
    if (reply) return new Response(JSON.stringify(reply), { headers: { "content-type": "application/json" } });
    return new Promise<Response>((_resolve, reject) => init.signal?.addEventListener("abort", () => reject(new Error("aborted"))));
  });
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("BayeuxClient", () => {
  it("handshakes over HTTP, then connects and subscribes over a WebSocket with the credentials in ext", async () => {
    const { bayeux, statuses, received } = client();
    bayeux.start();
    await until(() => FakeSocket.all.length === 1, "the socket");
    const socket = FakeSocket.all[0];
    expect(socket.url).toBe("wss://parley.test/faye");
    expect(posts[0][0]).toMatchObject({ channel: "/meta/handshake", version: "1.0", supportedConnectionTypes: ["websocket", "long-polling"] });
    socket.open();
    expect(socket.sent.map((f) => f.channel)).toEqual(["/meta/connect", "/meta/subscribe"]);
    expect(socket.sent[1]).toMatchObject({ clientId: "client-1", subscription: "/v1/conversations/c1", ext: { appUserId: "u1", appToken: "t1" } });
    socket.answerAll();
    expect(statuses).toEqual([true]);
    // The next connect goes out at once, to be held by the server.
    expect(socket.sent.map((f) => f.channel)).toEqual(["/meta/connect"]);
    socket.deliver([{ channel: "/v1/conversations/c1", data: { text: "hi" } }]);
    expect(received).toEqual([{ text: "hi" }]);
    bayeux.stop();
    expect(socket.closed).toBe(true);
  });

  it("answers advice reconnect=handshake with a new handshake, a new socket and the subscriptions again", async () => {
    const { bayeux, statuses } = client();
    bayeux.start();
    await until(() => FakeSocket.all.length === 1, "the socket");
    FakeSocket.all[0].open();
    FakeSocket.all[0].answerAll();
    FakeSocket.all[0].deliver([{ channel: "/meta/connect", successful: false, error: "401:client-1:Unknown client", advice: { reconnect: "handshake", interval: 0 } }]);
    expect(statuses).toEqual([true, false]);
    await until(() => FakeSocket.all.length === 2, "a second socket");
    expect(FakeSocket.all[0].closed).toBe(true);
    const second = FakeSocket.all[1];
    second.open();
    expect(second.sent.find((f) => f.channel === "/meta/subscribe")).toMatchObject({ clientId: "client-2", subscription: "/v1/conversations/c1" });
    second.answerAll();
    expect(statuses).toEqual([true, false, true]);
    bayeux.stop();
  });

  it("falls back to long-polling when the socket closes before it opens", async () => {
    const { bayeux, statuses, received } = client();
    bayeux.start();
    await until(() => FakeSocket.all.length === 1, "the socket");
    FakeSocket.all[0].onclose?.();
    await until(() => statuses.includes(true), "the long-polling subscription");
    const batch = posts.find((frames) => frames.some((f) => f.channel === "/meta/subscribe"))!;
    expect(batch[0]).toMatchObject({ channel: "/meta/connect", connectionType: "long-polling", advice: { timeout: 0 } });
    expect(posts.at(-1)).toEqual([expect.objectContaining({ channel: "/meta/connect", connectionType: "long-polling" })]);
    expect(FakeSocket.all.length).toBe(1);
    expect(bayeux.transport).toBe("long-polling");
    expect(received).toEqual([]);
    bayeux.stop();
  });

  it("long-polls from the start where the page has no WebSocket, and hands over events from the held connect", async () => {
    vi.stubGlobal("WebSocket", undefined);
    let release: ((frames: Frame[]) => void) | undefined;
    vi.stubGlobal("fetch", async (_url: string, init: { body: string }) => {
      const frames = JSON.parse(init.body) as Frame[];
      posts.push(frames);
      const reply = answer(frames) ?? (await new Promise<Frame[]>((resolve) => (release = resolve)));
      return new Response(JSON.stringify(reply));
    });
    const { bayeux, received } = client();
    bayeux.start();
    await until(() => release !== undefined, "a held connect");
    expect(posts[0][0].supportedConnectionTypes).toEqual(["long-polling"]);
    release!([{ channel: "/v1/conversations/c1", data: { text: "over HTTP" } }, { channel: "/meta/connect", successful: true }]);
    await until(() => received.length === 1, "the event");
    expect(received).toEqual([{ text: "over HTTP" }]);
    bayeux.stop();
  });

  it("goes down at once when the browser goes offline, and reconnects when it is back", async () => {
    const { bayeux, statuses } = client();
    bayeux.start();
    await until(() => FakeSocket.all.length === 1, "the socket");
    FakeSocket.all[0].open();
    FakeSocket.all[0].answerAll();
    bayeux.drop();
    expect(statuses).toEqual([true, false]);
    expect(FakeSocket.all[0].closed).toBe(true);
    bayeux.retryNow();
    await until(() => FakeSocket.all.length === 2, "a new socket");
    FakeSocket.all[1].open();
    FakeSocket.all[1].answerAll();
    expect(statuses).toEqual([true, false, true]);
    bayeux.stop();
  });
});
