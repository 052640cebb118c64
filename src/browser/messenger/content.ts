// What a message shows besides its text, decided without the DOM (so Node tests can read it):
// the links in its text, its time, and what each of its buttons does.
import type { Action } from "./types.ts";

/** A run of a message's text: plain, or an http(s) URL shown as a link to itself. */
export type TextPart = { text: string } | { text: string; href: string };

// A URL runs to the next space or angle bracket; punctuation that usually ends a sentence is left out.
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"]+/gi;
const TRAILING = /[.,;:!?'")\]}]+$/;

/** The text split into plain runs and http(s) links; nothing else (javascript:, data:) ever links. */
export function linkParts(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let at = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const url = match[0].replace(TRAILING, "");
    let href: string;
    try {
      href = new URL(url).href;
    } catch {
      continue;
    }
    if (match.index > at) parts.push({ text: text.slice(at, match.index) });
    parts.push({ text: url, href });
    at = match.index + url.length;
  }
  if (at < text.length) parts.push({ text: text.slice(at) });
  return parts;
}

/** A message's `received` (unix seconds) as a machine-readable time and as the visitor reads it. */
export function messageTime(received: number, locale?: string): { iso: string; label: string } {
  const date = new Date(received * 1000);
  return { iso: date.toISOString(), label: date.toLocaleString(locale, { dateStyle: "medium", timeStyle: "short" }) };
}

/** What pressing an action button does. */
export type ActionControl =
  | { kind: "link"; label: string; href: string }
  | { kind: "postback" | "locationRequest" | "share"; label: string }
  | { kind: "offer"; label: string };

/** An http(s) URL, or nothing: a uri of any other scheme is never opened. */
const safeUri = (uri: string | undefined) => (uri && /^https?:\/\//i.test(uri) ? uri : undefined);

/** A buy action's price: `amount` cents of `currency`, as the visitor's locale writes money. */
export function price(amount: number, currency: string, locale?: string): string {
  try {
    return new Intl.NumberFormat(locale, { style: "currency", currency: currency.toUpperCase() }).format(amount / 100);
  } catch {
    return `${(amount / 100).toFixed(2)} ${currency.toUpperCase()}`;
  }
}

/**
 * The button an action (other than a quick reply, which is a chip) becomes, or null for one that
 * cannot be shown safely (a link whose uri is not http(s)).
 */
export function actionControl(action: Action, texts: { shareButtonText: string; locationButtonText: string }, locale?: string): ActionControl | null {
  switch (action.type) {
    case "link":
    case "webview": {
      const href = safeUri(action.uri);
      return href ? { kind: "link", label: action.text ?? href, href } : null;
    }
    case "postback":
      return { kind: "postback", label: action.text ?? "" };
    case "locationRequest":
      return { kind: "locationRequest", label: action.text || texts.locationButtonText };
    case "share":
      return { kind: "share", label: action.text || texts.shareButtonText };
    case "buy":
      return {
        kind: "offer",
        label: action.amount === undefined ? (action.text ?? "") : `${action.text ?? ""} · ${price(action.amount, action.currency ?? "usd", locale)}`,
      };
    default:
      return null;
  }
}

/** The message that answers a location request: the coordinates as text, and as metadata for the business's code. */
export function locationMessage(coords: { latitude: number; longitude: number; accuracy?: number }, template: string) {
  const latitude = Number(coords.latitude.toFixed(6));
  const longitude = Number(coords.longitude.toFixed(6));
  return {
    text: template.replace("{latitude}", String(latitude)).replace("{longitude}", String(longitude)),
    metadata: { latitude, longitude, ...(coords.accuracy !== undefined && { accuracy: Math.round(coords.accuracy) }) },
  };
}
