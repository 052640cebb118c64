// The Desk's live channel client (src/browser/desk/live.ts) against a fake WebSocket: frames go to
// the page, a closed socket is opened again after a growing delay, an expired sign-in reloads.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LiveChannel } from "../../src/browser/desk/live.ts";

class FakeSocket {
  static opened: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((frame: { data: unknown }) => void) | null = null;
  onclose: ((close: { code: number }) => void) | null = null;
  sent: string[] = [];
  constructor(readonly url: string) {
    FakeSocket.opened.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close() {}
}

const reload = vi.fn();

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.opened = [];
  vi.stubGlobal("WebSocket", FakeSocket);
  vi.stubGlobal("location", { reload });
  vi.spyOn(Math, "random").mockReturnValue(1);
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  reload.mockClear();
});

const handlers = () => ({ event: vi.fn(), opened: vi.fn(), closed: vi.fn() });

describe("the Desk's live channel", () => {
  it("hands the page each JSON frame, ignores the rest, and pings while open", () => {
    const on = handlers();
    new LiveChannel("ws://desk/live", on);
    const socket = FakeSocket.opened[0];
    socket.onopen!();
    expect(on.opened).toHaveBeenCalledWith(false);
    socket.onmessage!({ data: '{"type":"typing","appUserId":"u1","active":true}' });
    socket.onmessage!({ data: "pong" });
    socket.onmessage!({ data: "not json" });
    expect(on.event.mock.calls).toEqual([[{ type: "typing", appUserId: "u1", active: true }]]);
    vi.advanceTimersByTime(30_000);
    expect(socket.sent).toEqual(["ping"]);
  });

  it("opens again after a close, waiting longer each time, and says it reconnected", () => {
    const on = handlers();
    new LiveChannel("ws://desk/live", on);
    FakeSocket.opened[0].onopen!();
    FakeSocket.opened[0].onclose!({ code: 1006 });
    expect(on.closed).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(499);
    expect(FakeSocket.opened).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.opened).toHaveLength(2);
    FakeSocket.opened[1].onclose!({ code: 1006 });
    vi.advanceTimersByTime(999);
    expect(FakeSocket.opened).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.opened).toHaveLength(3);
    FakeSocket.opened[2].onopen!();
    expect(on.opened).toHaveBeenLastCalledWith(true);
    expect(reload).not.toHaveBeenCalled();
  });

  it.each([4001, 4003])("reloads the page on close code %i (Access signs in again; the picker drops the app)", (code) => {
    new LiveChannel("ws://desk/live", handlers());
    FakeSocket.opened[0].onclose!({ code });
    expect(reload).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.opened).toHaveLength(1);
  });

  it("stays closed once stopped", () => {
    const on = handlers();
    const live = new LiveChannel("ws://desk/live", on);
    live.stop();
    FakeSocket.opened[0].onclose!({ code: 1000 });
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.opened).toHaveLength(1);
    expect(on.closed).not.toHaveBeenCalled();
  });
});
