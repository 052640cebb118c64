import type { AppUser } from "../db/app-users";
import type { Role } from "../enums";
import { toHex } from "../lib/hex";
import { newId } from "../lib/ids";
import type { FlatObject } from "../lib/schemas";
import { API_SOURCE, type MessageSource, type NewMessage } from "../model/message";
import { composeAction, type ActionInput } from "./actions";

/** What a caller may say about a message it posts (JSON body or image form). */
export interface MessageInput {
  role: Role;
  text?: string;
  name?: string;
  email?: string;
  avatarUrl?: string;
  mediaUrl?: string;
  mediaType?: string;
  metadata?: FlatObject;
  /** The quick reply's payload, when the app user answered with one. */
  payload?: string;
  /** Buttons; the caller lets only appMaker messages carry them. */
  actions?: ActionInput[];
  /** The sending device, which the message's `source` names. */
  deviceId?: string;
}

async function gravatarUrl(email: string): Promise<string> {
  const digest = await crypto.subtle.digest("MD5", new TextEncoder().encode(email.trim().toLowerCase()));
  return `https://www.gravatar.com/avatar/${toHex(digest)}.png?s=200&d=mm`;
}

const fullName = (user: AppUser) => [user.givenName, user.surname].filter(Boolean).join(" ") || undefined;

/**
 * Fills in what the contract defaults: an app user's message is signed with the user's name
 * and gravatar; any message with an `email` and no `avatarUrl` gets that email's gravatar.
 * App maker messages are authored by the app. Every action gets its `_id`. A message posted with
 * an `email` keeps it (an agent's, a replying team member's): it says who wrote.
 */
export async function composeMessage(user: AppUser, input: MessageInput, source: MessageSource = API_SOURCE): Promise<NewMessage> {
  const byUser = input.role === "appUser";
  const email = input.email ?? (byUser ? user.email ?? undefined : undefined);
  const avatarUrl = input.avatarUrl ?? (email ? await gravatarUrl(email) : undefined);
  return {
    _id: newId(),
    type: input.mediaUrl ? "image" : "text",
    authorId: byUser ? user.id : user.appId,
    role: input.role,
    name: input.name ?? (byUser ? fullName(user) : undefined),
    email: input.email,
    text: input.text ?? input.mediaUrl ?? "",
    avatarUrl,
    mediaUrl: input.mediaUrl,
    mediaType: input.mediaType,
    metadata: input.metadata,
    payload: input.payload,
    actions: (input.actions ?? []).map(composeAction),
    source,
  };
}
