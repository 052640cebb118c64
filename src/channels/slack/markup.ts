/**
 * Slack's message markup (its "mrkdwn" escapes and angle-bracket references) to plain text, as
 * the messenger shows it, and back: what Parley posts into a thread is escaped so that a user's
 * `<` or `&` shows as written and cannot ping a channel.
 */

/** `<@U123>` a mention, `<#C123|name>` a channel, `<!here>` a special mention, `<url|label>` a link. */
const REFERENCE = /<([^<>]*)>/g;

function referenceText(inner: string, names: Map<string, string>): string {
  const [target, label] = splitOnce(inner, "|");
  if (target.startsWith("@")) return `@${label ?? names.get(target.slice(1)) ?? target.slice(1)}`;
  if (target.startsWith("#")) return `#${label ?? target.slice(1)}`;
  if (target.startsWith("!")) return `@${label ?? target.slice(1).split("^")[0]}`;
  if (label === undefined) return target.replace(/^mailto:/, "");
  const plain = target.replace(/^mailto:/, "");
  return label === plain ? label : `${label} (${plain})`;
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

const unescape = (text: string) => text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

/** The user IDs a text mentions (`<@U…>`), so their names can be looked up. */
export const mentionedUsers = (text: string) => [...text.matchAll(/<@([A-Z0-9]+)(?:\|[^>]*)?>/g)].map((match) => match[1]);

/** Slack's text as plain text: references written out (mentions by `names`, user ID → name), escapes undone. */
export function plainText(slackText: string, names: Map<string, string> = new Map()): string {
  return unescape(slackText.replace(REFERENCE, (_, inner: string) => referenceText(inner, names)));
}

/** Plain text made safe for Slack: its three escapes, so nothing reads as a reference. */
export const escapeForSlack = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
