import { describe, expect, it } from "vitest";
import { poll, Socket } from "../worker/support/bayeux";
import { call, createApp, device, expectError, type TestApp } from "../worker/support/helpers";

// Issue 21, findings 1 and 5: /faye pays as REST does, from the same budgets (vitest.config.ts: 3
// device requests, 20 failed authentications, 4 sockets and 4 handshakes per address).
const FAILURES = 20;
const DEVICE_LIMIT = 3;
const REALTIME_LIMIT = 4;

let serial = 0;
const address = () => ({ "cf-connecting-ip": `192.0.2.${++serial}` });

/** A user made by the app's server (its own budget), and its user channel. */
async function userOf(app: TestApp) {
  const created = await call("POST", "/v1/appusers", app.server, { body: { userId: crypto.randomUUID() } });
  const id: string = created.json.appUser._id;
  return { id, channel: `/v1/users/${id}` };
}

/** A long-polling client's subscribes, one batch, from an address. */
async function subscribes(from: Record<string, string>, clientId: string, channel: string, exts: Record<string, unknown>[]) {
  const batch = exts.map((ext, i) => ({ channel: "/meta/subscribe", clientId, subscription: channel, ext, id: `s${i}` }));
  return (await poll(batch, from)).json as Array<{ successful: boolean; error?: string }>;
}

describe("realtime budgets", () => {
  it("counts /faye's failed authentications with REST's: after 20, 429 there and over REST", async () => {
    const app = await createApp("faye guessed");
    const user = await userOf(app);
    const from = address();
    const clientId = await handshakeFrom(from);
    const guesses = Array.from({ length: FAILURES }, (_, i) => ({ appUserId: user.id, appToken: `guess-${i}` }));
    const answers = await subscribes(from, clientId, user.channel, guesses);
    expect(answers.map((a) => a.error?.slice(0, 4))).toEqual(Array(FAILURES).fill("403:"));
    const over = await subscribes(from, clientId, user.channel, [
      { appUserId: user.id, appToken: "guess-over" },
      // From that address nothing is checked any more this minute: a right guess learns nothing.
      { appUserId: user.id, appToken: app.appToken },
    ]);
    for (const answer of over) expect(answer).toMatchObject({ successful: false, error: expect.stringMatching(/^429:/) });
    expectError(await call("POST", "/v1/init", { ...app.token, ...from }, { body: { device: device("d") } }), 429);
  });

  it("spends the caller's request budget on each subscription check, whichever door", async () => {
    const app = await createApp("faye budget");
    const user = await userOf(app);
    const from = address();
    const clientId = await handshakeFrom(from);
    const ext = { appUserId: user.id, appToken: app.appToken };
    const answers = await subscribes(from, clientId, user.channel, Array(DEVICE_LIMIT + 1).fill(ext));
    expect(answers.slice(0, DEVICE_LIMIT).every((a) => a.successful)).toBe(true);
    expect(answers[DEVICE_LIMIT]).toMatchObject({ successful: false, error: expect.stringMatching(/^429:/) });
    expectError(await call("POST", "/v1/init", { ...app.token, ...from }, { body: { device: device("d") } }), 429);
    // Another address is unaffected.
    const elsewhere = address();
    const [fine] = await subscribes(elsewhere, await handshakeFrom(elsewhere), user.channel, [ext]);
    expect(fine).toMatchObject({ successful: true });
  });

  it("limits the WebSockets an address opens: 429 at the upgrade", async () => {
    const from = address();
    const sockets = [];
    for (let i = 0; i < REALTIME_LIMIT; i++) sockets.push(await Socket.open(from));
    await expect(Socket.open(from)).rejects.toThrow(/429/);
    sockets.push(await Socket.open(address()));
    for (const socket of sockets) socket.close();
  });

  it("limits the handshakes an address makes, over HTTP and over its sockets: refused with 429", async () => {
    const from = address();
    for (let i = 0; i < REALTIME_LIMIT - 1; i++) await handshakeFrom(from);
    const socket = await Socket.open(from);
    const handshake = { channel: "/meta/handshake", version: "1.0", supportedConnectionTypes: ["websocket"] };
    expect(await socket.request(handshake)).toMatchObject({ successful: true });
    expect(await socket.request(handshake)).toMatchObject({ successful: false, error: expect.stringMatching(/^429:/) });
    const refused = await poll([{ ...handshake, id: "h" }], from);
    expect(refused.json[0]).toMatchObject({ successful: false, error: expect.stringMatching(/^429:/) });
    expect(await handshakeFrom(address())).toEqual(expect.any(String));
    socket.close();
  });
});

async function handshakeFrom(from: Record<string, string>): Promise<string> {
  const reply = await poll([{ channel: "/meta/handshake", version: "1.0", supportedConnectionTypes: ["long-polling"], id: "h" }], from);
  if (!reply.json[0]?.successful) throw new Error(`handshake failed: ${JSON.stringify(reply.json)}`);
  return reply.json[0].clientId;
}
