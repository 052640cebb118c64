import type { FlatObject } from "../lib/schemas";

export type Role = "appUser" | "appMaker";

/** A message as the contract shows it; `received` is unix seconds with milliseconds. */
export interface Message {
  _id: string;
  authorId: string;
  role: Role;
  name?: string;
  text: string;
  avatarUrl?: string;
  mediaUrl?: string;
  mediaType?: string;
  metadata?: FlatObject;
  received: number;
}

/** What the worker hands the conversation; it assigns `received`. */
export type NewMessage = Omit<Message, "received">;

/** Messages per page, for the conversation and for paging through messages. */
export const PAGE_SIZE = 100;

export interface MessagePage {
  messages: Message[];
  /** Older messages exist before the first one of this page. */
  hasOlder: boolean;
  /** Newer messages exist after the last one of this page. */
  hasNewer: boolean;
}
