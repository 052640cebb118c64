import PostalMime, { type Email } from "postal-mime";
import { config } from "../config";
import { composeMessage } from "../conversation/compose";
import { postMessages } from "../conversation/post";
import { resolveAppUser, type AppUser } from "../db/app-users";
import { agentOf, normalEmail } from "../agents/agents";
import { claimReply, releaseReply, replyTarget, type ReplyTarget } from "../db/email";
import { storeImage } from "../media/upload";
import { sniffImage } from "../media/sniff";
import type { NewMessage } from "../model/message";
import { htmlToText, stripQuotedReply } from "./reply-text";
import { claimedAppUser, verifyReplyMac } from "../channels/email/token";

/** Email Routing's own limit: a larger message is refused before it is read. */
export const MAX_EMAIL_BYTES = 25 * 1024 * 1024;

/** Mail as the email() handler gets it: the envelope, and the raw RFC 822 message. */
export interface InboundEmail {
  from: string;
  to: string;
  rawSize: number;
  raw: ReadableStream<Uint8Array> | string | ArrayBuffer;
}

/** What became of a reply: stored as these messages, taken with nothing to store, or refused with a reason for its sender. */
export type ReplyOutcome = { stored: string[] } | { ignored: string } | { rejected: string };

const NO_CONVERSATION = "no conversation has this reply address (it is unknown, or the conversation was deleted)";

/** Whether this sender may answer the conversation: one of the integration's addresses, or an agent of the app. */
export async function isAllowedSender(env: Env, target: Pick<ReplyTarget, "appId" | "to">, address: string): Promise<boolean> {
  const sender = normalEmail(address);
  return target.to.some((allowed) => normalEmail(allowed) === sender) || (await agentOf(env, target.appId, sender)) !== null;
}

/** The conversation a recipient address names, its token verified; null for anything else. */
async function conversationOf(env: Env, to: string, domain: string): Promise<{ target: ReplyTarget; appUserId: string } | null> {
  const at = to.lastIndexOf("@");
  if (at < 1 || to.slice(at + 1).toLowerCase() !== domain) return null;
  const claimed = claimedAppUser(to.slice(0, at));
  if (!claimed) return null;
  const target = await replyTarget(env.DB, claimed.appUserId);
  if (!target || !(await verifyReplyMac(target.tokenKey, target.appId, claimed.appUserId, claimed.mac))) return null;
  return { target, appUserId: claimed.appUserId };
}

async function parse(raw: InboundEmail["raw"]): Promise<Email | null> {
  try {
    return await PostalMime.parse(raw, { attachmentEncoding: "arraybuffer" });
  } catch {
    return null;
  }
}

interface Image {
  bytes: Uint8Array;
  type: NonNullable<ReturnType<typeof sniffImage>>;
}

/** The reply's images, sniffed as uploads are; a reason to refuse the reply when it carries anything else. */
function imagesOf(env: Env, email: Email): Image[] | string {
  const images: Image[] = [];
  if (email.attachments.length > 0 && !config(env).publicUrl) return "attachments refused: this server takes images by email only when PUBLIC_URL is set";
  for (const attachment of email.attachments) {
    const content = attachment.content;
    const bytes = typeof content === "string" ? new TextEncoder().encode(content) : new Uint8Array(content);
    const type = sniffImage(bytes);
    const name = attachment.filename ?? attachment.mimeType;
    if (!type) return `attachment '${name}' refused: only JPEG, PNG, GIF and WebP images are taken; link other files in the text`;
    if (bytes.byteLength > config(env).mediaMaxBytes) return `attachment '${name}' refused: images are limited to ${config(env).mediaMaxBytes} bytes`;
    images.push({ bytes, type });
  }
  return images;
}

/** Stores the images and posts the reply as the user's conversation's appMaker messages; nothing is left behind should the post fail. */
async function post(env: Env, user: AppUser, text: string, images: Image[], sender: { name: string; email: string }): Promise<string[]> {
  // Checked by imagesOf: images come only with PUBLIC_URL, there being no request whose origin would do.
  const origin = config(env).publicUrl!;
  const stored = await Promise.all(images.map((image) => storeImage(env, user, image.bytes, image.type, origin)));
  try {
    const author = { role: "appMaker" as const, name: sender.name, email: sender.email };
    const messages: NewMessage[] = await Promise.all([
      ...(text ? [composeMessage(user, { ...author, text })] : []),
      ...stored.map((image, i) => composeMessage(user, { ...author, mediaUrl: image.mediaUrl, mediaType: images[i].type.mediaType })),
    ]);
    const { appended } = await postMessages(env, user, messages);
    return appended.map((message) => message._id);
  } catch (error) {
    await Promise.all(stored.map((image) => env.MEDIA.delete(image.key)));
    throw error;
  }
}

/**
 * Takes a reply sent to a conversation's reply address: the address's token must verify and
 * name a live user of a live app with an email integration, the sender must be allowed, the
 * message must parse and carry only images besides its text. Its new text (the quoted email
 * dropped) and its images become appMaker messages, once per Message-ID. A failure to store
 * throws, so that the sending server tries again later.
 */
export async function receiveReply(env: Env, mail: InboundEmail): Promise<ReplyOutcome> {
  const domain = config(env).emailDomain;
  if (!domain) return { rejected: "this domain takes no replies" };
  if (mail.rawSize > MAX_EMAIL_BYTES) return { rejected: `message too large: replies are limited to ${MAX_EMAIL_BYTES} bytes` };
  const conversation = await conversationOf(env, mail.to.trim(), domain);
  if (!conversation) return { rejected: NO_CONVERSATION };
  const email = await parse(mail.raw);
  if (!email || (!email.text && !email.html && email.attachments.length === 0 && email.headers.length === 0)) {
    return { rejected: "malformed message: it could not be read as MIME" };
  }
  const from = email.from?.address ?? mail.from;
  if (!(await isAllowedSender(env, conversation.target, from))) return { rejected: `sender ${from} may not answer this conversation` };
  if (!email.messageId) return { rejected: "malformed message: it has no Message-ID" };
  const images = imagesOf(env, email);
  if (typeof images === "string") return { rejected: images };
  const text = stripQuotedReply(email.text ?? htmlToText(email.html ?? ""));
  if (!text && images.length === 0) return { ignored: "the reply holds only quoted text" };

  const user = await resolveAppUser(env.DB, conversation.target.appId, conversation.appUserId);
  if (!user || user.id !== conversation.appUserId) return { rejected: NO_CONVERSATION };
  if (!(await claimReply(env.DB, user.id, email.messageId, Date.now()))) return { ignored: "this reply was taken before" };
  try {
    return { stored: await post(env, user, text, images, { name: email.from?.name || from, email: from }) };
  } catch (error) {
    await releaseReply(env.DB, user.id, email.messageId);
    throw error;
  }
}

/** The worker's email() handler: a refused reply is bounced to its sender with the reason. */
export async function handleInboundEmail(message: ForwardableEmailMessage, env: Env): Promise<void> {
  const outcome = await receiveReply(env, message);
  if ("rejected" in outcome) message.setReject(outcome.rejected);
  else if ("ignored" in outcome) console.log(`email from ${message.from} to ${message.to}: ${outcome.ignored}`);
}
