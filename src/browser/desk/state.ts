// The conversation list and history as the page holds them, decided without the DOM (Node tests
// read it): which entries a filter keeps, where a changed entry goes, how pages of messages merge.
import type { AppUser, Entry, EntryUser, ListFilter, Message } from "./types.ts";

/** What the list shows for a user: their name, else their email or userId, else their id. */
export function userLabel(user: EntryUser): string {
  const name = [user.givenName, user.surname].filter(Boolean).join(" ");
  return name || user.email || user.userId || `Visitor ${user._id.slice(-6)}`;
}

/** Whether an entry belongs in the list under the filter (the server's rules, for live changes). */
export function keeps(filter: ListFilter, me: string, entry: Entry): boolean {
  if (filter.status !== "all" && entry.status !== filter.status) return false;
  if (filter.mine && entry.assignee?.email !== me) return false;
  const q = filter.q.trim().toLowerCase();
  if (!q) return true;
  const { userId, givenName, surname, email } = entry.appUser;
  return [userId, givenName, surname, email].some((field) => field?.toLowerCase().includes(q));
}

const newestFirst = (a: Entry, b: Entry) => (b.lastActivity ?? 0) - (a.lastActivity ?? 0);

/**
 * The list after a live change to one entry: replaced or removed where it was, then placed by its
 * activity, newest first. An entry older than the last one loaded, while more pages remain, is
 * left to those pages (placing it at the end would hide the ones between).
 */
export function applyChange(list: Entry[], entry: Entry, kept: boolean, hasMore: boolean): Entry[] {
  const others = list.filter((e) => e.appUser._id !== entry.appUser._id);
  if (!kept) return others;
  const oldest = others.at(-1)?.lastActivity ?? 0;
  if (hasMore && others.length > 0 && (entry.lastActivity ?? 0) < oldest) return others;
  return [...others, entry].sort(newestFirst);
}

/** A page appended to the list, each conversation once (a live change may have brought it already). */
export function appendPage(list: Entry[], page: Entry[]): Entry[] {
  const known = new Set(list.map((e) => e.appUser._id));
  return [...list, ...page.filter((e) => !known.has(e.appUser._id))];
}

/** Messages from two reads (or a read and the live channel), each once, oldest first. */
export function mergeMessages(known: Message[], incoming: Message[]): Message[] {
  const byId = new Map(known.map((m) => [m._id, m]));
  for (const message of incoming) byId.set(message._id, message);
  return [...byId.values()].sort((a, b) => a.received - b.received);
}

/**
 * The open user's profile after a live change to their entry: the fields the list shows taken
 * from it, where one the entry lacks was removed (a profile erased, say); the rest as read.
 */
export function withListed(user: AppUser, listed: EntryUser): AppUser {
  const { givenName, surname, email, properties = {} } = listed;
  return { ...user, givenName, surname, email, properties };
}
