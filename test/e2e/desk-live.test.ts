// The Desk's live channel end to end against `wrangler dev` (issue 26: a new visitor message shows
// in the open Desk within 1 s p50 and 2 s p99): the Desk's WebSocket, opened as the local agent on
// loopback with the page's Origin, and the time from each message's 201 to its frame at the socket.
import { afterAll, describe, expect, it } from "vitest";
import { api, baseUrl, createApp } from "./client.ts";

const MESSAGES = 50;
const sockets: WebSocket[] = [];

afterAll(() => {
  for (const socket of sockets) socket.close(1000);
});

/** The app's live channel; every frame it receives, with when it arrived. */
async function openDesk(appId: string) {
  const frames: Array<{ at: number; frame: any }> = [];
  const socket = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/desk/api/apps/${appId}/live`, { headers: { origin: baseUrl } } as never);
  sockets.push(socket);
  socket.addEventListener("message", (event) => {
    frames.push({ at: performance.now(), frame: JSON.parse(String(event.data)) });
  });
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve);
    socket.addEventListener("error", () => reject(new Error("the Desk's live channel did not open")));
  });
  return frames;
}

async function frameFor(frames: Array<{ at: number; frame: any }>, messageId: string, timeoutMs = 10_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const found = frames.find(({ frame }) => frame.type === "conversation" && frame.conversation.lastMessage?._id === messageId);
    if (found) return found;
    if (performance.now() > deadline) throw new Error(`no frame for message ${messageId} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

describe("the Desk's live channel under wrangler dev", () => {
  it(`shows each of ${MESSAGES} visitor messages at the open Desk within 1 s p50 and 2 s p99`, { timeout: 180_000 }, async () => {
    const app = await createApp("desk live e2e");
    const frames = await openDesk(app.appId);
    const { appUser } = await api("POST", "/v1/appusers", app.appJwt, { userId: "live@example.com", givenName: "Lou" });
    const latencies: number[] = [];
    const sinceSent: number[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      const sent = performance.now();
      const { message } = await api("POST", `/v1/appusers/${appUser._id}/messages`, app.appJwt, { role: "appUser", text: `message ${i}` });
      const created = performance.now();
      const { at, frame } = await frameFor(frames, message._id);
      expect(frame.conversation).toMatchObject({ appUser: { _id: appUser._id, givenName: "Lou" }, status: "open" });
      // A frame can beat the 201 to the test: that is no wait at all.
      latencies.push(Math.max(0, at - created));
      sinceSent.push(at - sent);
    }
    latencies.sort((a, b) => a - b);
    sinceSent.sort((a, b) => a - b);
    const [p50, p99] = [percentile(latencies, 50), percentile(latencies, 99)];
    console.log(
      `desk live over ${MESSAGES} messages: 201 -> frame at the Desk p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms; ` +
        `post sent -> frame p50 ${percentile(sinceSent, 50).toFixed(0)} ms, p99 ${percentile(sinceSent, 99).toFixed(0)} ms`,
    );
    // Judged from the post's sending, an upper bound of the wait after its 201.
    expect(p99).toBeLessThan(2_000);
    expect(percentile(sinceSent, 50)).toBeLessThan(1_000);
    expect(percentile(sinceSent, 99)).toBeLessThan(2_000);
  });
});
