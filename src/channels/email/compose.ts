import type { AppUser } from "../../db/app-users";
import type { EmailedDevice, EmailThread } from "../../db/email";

/** What one appUser message's email is made of: everything read, nothing left to look up. */
export interface EmailParts {
  domain: string;
  /** The integration's `fromName`, else the app's name. */
  businessName: string;
  to: string[];
  replyLocalPart: string;
  user: AppUser;
  message: { messageId: string; text: string; type: string; mediaUrl?: string; name?: string };
  /** Null for the conversation's first email, which carries the user's profile. */
  thread: EmailThread | null;
  devices: EmailedDevice[];
}

const SUBJECT_MAX = 150;

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** A display name is one header line: no line breaks, no quotes to break out of. */
const headerSafe = (text: string) => text.replace(/[\r\n"\\]+/g, " ").trim();

export function displayName(user: AppUser, messageName?: string): string {
  return messageName || [user.givenName, user.surname].filter(Boolean).join(" ") || user.email || user.userId || "Anonymous user";
}

/** The subject a conversation's emails keep: set by its first. */
export const subjectOf = (parts: EmailParts) =>
  parts.thread?.subject ?? headerSafe(`Conversation with ${displayName(parts.user, parts.message.name)} (${parts.businessName})`).slice(0, SUBJECT_MAX);

/** The message itself: an image is linked by its mediaUrl (see the README's Email section). */
function bodyLines(parts: EmailParts): string[] {
  const { message } = parts;
  if (message.type === "image" && message.mediaUrl) {
    return message.text && message.text !== message.mediaUrl ? [message.text, "", `Image: ${message.mediaUrl}`] : [`Image: ${message.mediaUrl}`];
  }
  return [message.text];
}

/** The user's profile and devices as label/value pairs, for the conversation's first email. */
function profileRows(parts: EmailParts): Array<[string, string]> {
  const { user } = parts;
  const rows: Array<[string, string]> = [["Name", displayName(user)]];
  if (user.userId) rows.push(["userId", user.userId]);
  if (user.email) rows.push(["email", user.email]);
  for (const [key, value] of Object.entries(user.properties)) rows.push([`properties.${key}`, String(value)]);
  parts.devices.forEach((device, i) => {
    const info = Object.entries(device.info).map(([key, value]) => `${key}=${String(value)}`).join(", ");
    rows.push([`device ${i + 1}`, [device.platform, device.appVersion, info].filter(Boolean).join(" · ")]);
  });
  return rows;
}

/** A Message-ID as the headers write it, in angle brackets, whichever way the sender answered it. */
const angled = (id: string) => (id.startsWith("<") ? id : `<${id}>`);

/** The header that names an email's Parley message. */
const PARLEY_MESSAGE_HEADER = "X-Parley-Message-Id";

const REPLY_HINT = "Reply to this email to answer; your reply (without the quoted text) is sent to the user.";

/** The email of one appUser message, as SendEmail.send() takes it. */
export function composeEmail(parts: EmailParts): EmailMessageBuilder {
  const address = `${parts.replyLocalPart}@${parts.domain}`;
  const body = bodyLines(parts);
  const profile = parts.thread ? [] : profileRows(parts);
  const text = [
    ...body,
    ...(profile.length ? ["", "-- ", "About this user:", ...profile.map(([label, value]) => `${label}: ${value}`)] : []),
    "",
    REPLY_HINT,
  ].join("\n");
  const html = [
    `<div style="white-space:pre-wrap">${body.map(escapeHtml).join("<br>")}</div>`,
    profile.length
      ? `<hr><p>About this user:</p><table>${profile.map(([label, value]) => `<tr><th align="left">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`).join("")}</table>`
      : "",
    `<p style="color:#666">${escapeHtml(REPLY_HINT)}</p>`,
  ].join("");
  const threading: Record<string, string> = parts.thread
    ? {
        "In-Reply-To": angled(parts.thread.lastMessageId),
        References: [...new Set([parts.thread.rootMessageId, parts.thread.lastMessageId])].map(angled).join(" "),
      }
    : {};
  // The sending service sets Message-ID itself (a resend gets a new one): this names the Parley
  // message, the same in every copy, so that a mail filter or help desk can drop a resent copy.
  const identity = { [PARLEY_MESSAGE_HEADER]: parts.message.messageId };
  return {
    from: { name: headerSafe(`${displayName(parts.user, parts.message.name)} via ${parts.businessName}`), email: address },
    to: parts.to,
    replyTo: address,
    subject: subjectOf(parts),
    text,
    html,
    headers: { ...threading, ...identity },
  };
}
