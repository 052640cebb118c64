// The conversation list and the search results: each item a button that opens its conversation.
import { h } from "../messenger/dom.ts";
import { userLabel } from "./state.ts";
import type { Entry, Message, SearchResult } from "./types.ts";

/** A short "when": the time today, else the date. */
function when(received: number): { iso: string; label: string } {
  const date = new Date(received * 1000);
  const today = new Date().toDateString() === date.toDateString();
  return { iso: date.toISOString(), label: today ? date.toLocaleTimeString(undefined, { timeStyle: "short" }) : date.toLocaleDateString(undefined, { dateStyle: "medium" }) };
}

const preview = (message: Message | null) => (message ? (message.mediaUrl && (!message.text || message.text === message.mediaUrl) ? "Image" : message.text) : "No message yet");

function item(appUserId: string, current: boolean, open: (appUserId: string) => void, ...children: Array<Node | false>) {
  return h(
    "li",
    {},
    h("button", { type: "button", class: "entry", "data-user": appUserId, "aria-current": current ? "true" : undefined, onclick: () => open(appUserId) }, ...children),
  );
}

function time(received: number | null) {
  if (received === null) return false;
  const { iso, label } = when(received);
  return h("time", { class: "when", datetime: iso }, label);
}

export function entryItems(entries: Entry[], openId: string | null, open: (appUserId: string) => void): HTMLLIElement[] {
  return entries.map((entry) => {
    const unread = entry.businessUnreadCount;
    const author = entry.lastMessage && entry.lastMessage.role !== "appUser" ? `${entry.lastMessage.name ?? "Business"}: ` : "";
    return item(
      entry.appUser._id,
      entry.appUser._id === openId,
      open,
      h("span", { class: "name" }, userLabel(entry.appUser)),
      time(entry.lastActivity),
      h("span", { class: "preview" }, author + preview(entry.lastMessage)),
      h(
        "span",
        { class: "tags" },
        unread > 0 && h("span", { class: "badge" }, String(unread), h("span", { class: "sr-only" }, unread === 1 ? " unread message" : " unread messages")),
        entry.status === "closed" && h("span", {}, "Closed"),
        entry.assignee && h("span", {}, `Assigned to ${entry.assignee.name}`),
      ),
    );
  });
}

export function resultItems(results: SearchResult[], openId: string | null, open: (appUserId: string) => void): HTMLLIElement[] {
  return results.map(({ appUser, message }) =>
    item(appUser._id, appUser._id === openId, open, h("span", { class: "name" }, userLabel(appUser)), time(message.received), h("span", { class: "preview" }, preview(message))),
  );
}

/** Up and Down move between the list's buttons, Home and End to its ends. */
export function arrowKeys(list: HTMLElement) {
  list.addEventListener("keydown", (event) => {
    const buttons = [...list.querySelectorAll<HTMLButtonElement>("button.entry")];
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (at < 0) return;
    const next = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: buttons.length - 1 }[event.key];
    if (next === undefined || !buttons[next]) return;
    event.preventDefault();
    buttons[next].focus();
  });
}
