// The Desk's list and history logic (src/browser/desk/state.ts): live changes land where the
// server would have put them.
import { describe, expect, it } from "vitest";
import { appendPage, applyChange, keeps, mergeMessages, userLabel, withListed } from "../../src/browser/desk/state.ts";
import type { Entry, Message } from "../../src/browser/desk/types.ts";

const entry = (id: string, lastActivity: number, fields: Partial<Entry> = {}): Entry => ({
  appUser: { _id: id, givenName: id.toUpperCase() },
  lastMessage: null,
  lastActivity,
  businessUnreadCount: 0,
  status: "open",
  assignee: null,
  ...fields,
});
const ids = (list: Entry[]) => list.map((e) => e.appUser._id);
const message = (id: string, received: number): Message => ({ _id: id, role: "appUser", text: id, received });

describe("the Desk's list state", () => {
  it("moves a changed conversation to its place by activity, newest first, once", () => {
    const list = [entry("a", 30), entry("b", 20), entry("c", 10)];
    expect(ids(applyChange(list, entry("c", 40), true, false))).toEqual(["c", "a", "b"]);
    expect(ids(applyChange(list, entry("d", 25), true, false))).toEqual(["a", "d", "b", "c"]);
    expect(ids(applyChange(list, entry("b", 20), false, false))).toEqual(["a", "c"]);
    // Older than the last one loaded while more pages remain: left to those pages.
    expect(ids(applyChange(list, entry("d", 5), true, true))).toEqual(["a", "b", "c"]);
    expect(ids(applyChange(list, entry("d", 5), true, false))).toEqual(["a", "b", "c", "d"]);
    expect(ids(appendPage(list, [entry("c", 10), entry("e", 5)]))).toEqual(["a", "b", "c", "e"]);
  });

  it("keeps what the server's filter would: status, mine, the user filter", () => {
    const mine = entry("ana", 1, { assignee: { email: "me@example.com", name: "Me" }, appUser: { _id: "u1", email: "Vic@Example.com" } });
    expect(keeps({ status: "open", mine: true, q: "" }, "me@example.com", mine)).toBe(true);
    expect(keeps({ status: "open", mine: true, q: "" }, "other@example.com", mine)).toBe(false);
    expect(keeps({ status: "closed", mine: false, q: "" }, "me@example.com", mine)).toBe(false);
    expect(keeps({ status: "all", mine: false, q: "vic@" }, "me@example.com", mine)).toBe(true);
    expect(keeps({ status: "all", mine: false, q: "zed" }, "me@example.com", mine)).toBe(false);
  });

  it("merges pages of messages, each once, oldest first; names a user by name, email, userId or id", () => {
    expect(mergeMessages([message("b", 2), message("c", 3)], [message("a", 1), message("c", 3)]).map((m) => m._id)).toEqual(["a", "b", "c"]);
    expect(userLabel({ _id: "0123456789", givenName: "Ada", surname: "Lovelace", email: "ada@example.com" })).toBe("Ada Lovelace");
    expect(userLabel({ _id: "0123456789", userId: "ada-1" })).toBe("ada-1");
    expect(userLabel({ _id: "0123456789" })).toBe("Visitor 456789");
  });

  it("takes the open user's listed fields from a live entry, a field it lacks as removed, the rest as read", () => {
    const read = { _id: "u1", userId: "ada-1", givenName: "Ada", surname: "L", email: "ada@example.com", signedUpAt: "2026-01-01", properties: { plan: "free" } };
    expect(withListed(read, { _id: "u1", userId: "ada-1", givenName: "Ada", surname: "Lovelace", properties: { plan: "pro" } })).toEqual({
      _id: "u1",
      userId: "ada-1",
      givenName: "Ada",
      surname: "Lovelace",
      email: undefined,
      signedUpAt: "2026-01-01",
      properties: { plan: "pro" },
    });
    expect(withListed(read, { _id: "u1" }).properties).toEqual({});
  });
});
