/** The shapes the Desk page reads from the Desk API (/desk/api) and its live channel. */
import type { Message as MessengerMessage } from "../messenger/types.ts";

export interface DeskApp {
  _id: string;
  name: string;
}

export interface Agent {
  email: string;
  name: string;
}

/** A message as the messenger reads it, with the address an agent's message carries. */
export type Message = MessengerMessage & { email?: string };

export interface EntryUser {
  _id: string;
  userId?: string;
  givenName?: string;
  surname?: string;
  email?: string;
  properties?: Record<string, unknown>;
}

export interface AppUser extends EntryUser {
  signedUpAt?: string;
  [field: string]: unknown;
}

export interface Device {
  platform: string;
  appVersion?: string;
  info?: Record<string, unknown>;
}

export type Status = "open" | "closed";

/** One conversation of the list, as GET .../conversations and the live channel give it. */
export interface Entry {
  appUser: EntryUser;
  lastMessage: Message | null;
  lastActivity: number | null;
  businessUnreadCount: number;
  status: Status;
  assignee: Agent | null;
}

export interface History {
  appUser: AppUser;
  messages: Message[];
  hasOlder: boolean;
  devices?: Device[];
}

export interface SearchResult {
  appUser: EntryUser;
  message: Message;
}

/** What the live channel says (text frames, JSON). */
export type LiveEvent =
  | { type: "conversation"; conversation: Entry }
  | { type: "removed"; appUserId: string }
  | { type: "erased"; appUserId: string; messageId: string }
  | { type: "typing"; appUserId: string; active: boolean };

/** The list's filters: which status, only the signed-in agent's, the user filter. */
export interface ListFilter {
  status: Status | "all";
  mine: boolean;
  q: string;
}
