// One message of the history as the agent sees it. Every text the users (or the business's
// servers) wrote goes in as a text node: nothing of it is ever read as HTML.
import { actionControl, linkParts, messageTime } from "../messenger/content.ts";
import { h } from "../messenger/dom.ts";
import type { Message } from "./types.ts";

/** What the messenger's buttons without a label of their own say; the Desk shows them as it does. */
const ACTION_TEXTS = { shareButtonText: "Share", locationButtonText: "Send location" };

const link = (text: string, href: string) => h("a", { href, target: "_blank", rel: "noopener noreferrer" }, text);

/**
 * An image is shown inline only from this page's origin (the worker's media) or the media origin
 * the page was given: the page's img-src allows no other, and a remote image would tell its host
 * that the agent opened the conversation. Any other is a link.
 */
function picture(message: Message, author: string, mediaOrigins: string[]) {
  let url: URL;
  try {
    url = new URL(message.mediaUrl!, location.href);
  } catch {
    return null;
  }
  if (!/^https?:$/.test(url.protocol)) return null;
  if (!mediaOrigins.includes(url.origin)) return link(`Image: ${url.href}`, url.href);
  return h("a", { href: url.href, target: "_blank", rel: "noopener noreferrer" }, h("img", { src: url.href, alt: `Image from ${author}`, loading: "lazy" }));
}

export function messageItem(message: Message, author: string, mediaOrigins: string[]): HTMLLIElement {
  const bubble = h("div", { class: "bubble" });
  if (message.mediaUrl) {
    const shown = picture(message, author, mediaOrigins);
    if (shown) bubble.append(shown);
  }
  // An image's text is its URL (the contract's way): shown once, as the image.
  if (message.text && message.text !== message.mediaUrl) {
    for (const part of linkParts(message.text)) bubble.append("href" in part ? link(part.text, part.href) : document.createTextNode(part.text));
  }
  const actions = (message.actions ?? []).flatMap((action) => {
    const control = actionControl(action, ACTION_TEXTS);
    if (!control) return [];
    return [control.kind === "link" ? h("a", { class: "action", href: control.href, target: "_blank", rel: "noopener noreferrer" }, control.label) : h("span", { class: "action" }, control.label)];
  });
  const time = messageTime(message.received);
  return h(
    "li",
    { class: `msg${message.role === "appUser" ? "" : " mine"}`, "data-id": message._id },
    h("span", { class: "author" }, author),
    bubble,
    actions.length > 0 && h("div", { class: "actions", role: "group", "aria-label": "Buttons of this message" }, ...actions),
    h("time", { class: "time", datetime: time.iso }, time.label),
  );
}
