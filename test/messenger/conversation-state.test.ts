// The messenger's conversation state, on Node: ordering, duplicates, pending messages, paging, unread.
import { describe, expect, it } from "vitest";
import { ConversationState } from "../../src/browser/messenger/conversation-state.ts";
import type { Message } from "../../src/browser/messenger/types.ts";

const DEVICE = "device-1";
let ids = 0;
const message = (fields: Partial<Message> & { received: number }): Message => ({ _id: `m${++ids}`, role: "appMaker", text: `text ${ids}`, ...fields });
const mine = (text: string, received: number, source = DEVICE): Message => message({ role: "appUser", text, received, source: { type: "web", id: source } });

describe("ConversationState", () => {
  it("keeps messages in received order, each once, whichever way they arrive", () => {
    const state = new ConversationState(DEVICE);
    const [a, b, c] = [message({ received: 1 }), message({ received: 2 }), message({ received: 3 })];
    state.addPage([a, c], false, false);
    expect(state.receive(b)).toBe(true);
    expect(state.receive(c)).toBe(false);
    expect(state.addPage([a, b, c], false, false)).toEqual([]);
    expect(state.messages.map((m) => m._id)).toEqual([a._id, b._id, c._id]);
  });

  it("shows a pending message after the stored ones until its POST answer settles it", () => {
    const state = new ConversationState(DEVICE);
    state.addPage([message({ received: 1 })], false, false);
    const pending = state.addPending("hello");
    expect(state.entries().map((e) => e.kind)).toEqual(["stored", "pending"]);
    const stored = mine("hello", 2);
    expect(state.settle(pending.localId, stored)).toBe(true);
    expect(state.pending).toEqual([]);
    expect(state.messages.at(-1)).toBe(stored);
  });

  it("settles a pending message by its realtime echo when the echo beats the POST answer, and stores it once", () => {
    const state = new ConversationState(DEVICE);
    const pending = state.addPending("race");
    const stored = mine("race", 5);
    expect(state.receive(stored)).toBe(true);
    expect(state.pending).toEqual([]);
    expect(state.settle(pending.localId, stored)).toBe(false);
    expect(state.messages).toEqual([stored]);
  });

  it("leaves pending messages alone for the same text from another device, and for failed ones", () => {
    const state = new ConversationState(DEVICE);
    const sending = state.addPending("same");
    state.receive(mine("same", 1, "other-device"));
    expect(state.findPending(sending.localId)).toBeDefined();
    sending.status = "failed";
    state.receive(mine("same", 2));
    expect(state.findPending(sending.localId)?.status).toBe("failed");
  });

  it("an image's echo settles the pending upload", () => {
    const state = new ConversationState(DEVICE);
    state.addPending("", { file: new Blob(["x"]), previewUrl: "blob:x", progress: 0.5 });
    state.receive({ ...mine("https://parley.test/v1/media/k", 3), type: "image", mediaUrl: "https://parley.test/v1/media/k" });
    expect(state.pending).toEqual([]);
  });

  it("pages: hasOlder from the first page, then from each older page, the cursor being the oldest held", () => {
    const state = new ConversationState(DEVICE);
    const held = message({ received: 11 });
    state.addPage([message({ received: 10 }), held], true, false);
    expect(state.hasOlder).toBe(true);
    expect(state.oldestReceived).toBe(10);
    state.addPage([message({ received: 8 }), message({ received: 9 })], false, true);
    expect(state.hasOlder).toBe(false);
    expect(state.messages.map((m) => m.received)).toEqual([8, 9, 10, 11]);
    // A catch-up page that reaches back to what is held keeps hasOlder as it was.
    expect(state.addPage([held, message({ received: 11.5 }), message({ received: 12 })], true, false).length).toBe(2);
    expect(state.hasOlder).toBe(false);
  });

  it("a catch-up page that does not join up with what is held replaces it (more was missed than a page)", () => {
    const state = new ConversationState(DEVICE);
    const old = message({ received: 1 });
    state.addPage([old], false, false);
    const later = [message({ received: 500 }), message({ received: 501 })];
    expect(state.addPage(later, true, false)).toEqual(later);
    expect(state.messages).toEqual(later);
    expect(state.hasOlder).toBe(true);
    // The message dropped then comes back with the older page, once.
    state.addPage([old], false, true);
    expect(state.messages.map((m) => m.received)).toEqual([1, 500, 501]);
  });

  it("takes the unread count of a page, plus the business messages that overtook it over realtime", () => {
    const state = new ConversationState(DEVICE);
    const page = [message({ received: 10 }), mine("hi", 11)];
    state.receive(message({ received: 12 }));
    state.receive(mine("again", 13));
    state.addPage(page, false, false);
    expect(state.unreadWithPage(1, page)).toBe(2);
    expect(state.unreadWithPage(0, [])).toBe(2);
  });

  it("counts business messages the visitor is not looking at", () => {
    const state = new ConversationState(DEVICE);
    state.unread = 2;
    expect(state.unreadAfter(message({ received: 1 }), false)).toBe(3);
    expect(state.unreadAfter(message({ received: 1 }), true)).toBe(2);
    expect(state.unreadAfter(mine("mine", 1), false)).toBe(2);
    expect(state.unreadAfter(message({ role: "whisper", received: 1 }), false)).toBe(2);
  });
});
