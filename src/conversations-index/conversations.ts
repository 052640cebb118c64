import { agentOf, normalEmail } from "../agents/agents";
import type { AppUser } from "../db/app-users";
import { CHANNELS } from "../channels/registry";
import { whenErased } from "../conversation/erased";
import type { TriageChange } from "../conversation/object/triage";
import { conversationStub } from "../conversation/stub";
import { noLiveApp } from "../auth/authorize";
import { findEntries, indexedTriage, listConversations, searchMessages, triageStatement, type ListFilter } from "../db/conversation-index";
import { destinationsFor } from "../delivery/destinations";
import { announceChanges } from "../desk-live/announce";
import type { ConversationStatus } from "../enums";
import { badRequest, notFound } from "../errors";
import { jsonWithRaw } from "../lib/raw-json";
import type { conversationEntrySchema } from "../presenters/conversation-entry";
import type { z } from "zod";

/** A page and whether another follows: the queries read one row more than the page. */
const paged = <T>(rows: T[], limit: number) => ({ page: rows.slice(0, limit), hasMore: rows.length > limit });

/** The list's query parameters, as GET /v1/conversations and the Desk take them (validated). */
export interface ListQuery {
  limit: number;
  before?: number;
  status: ListFilter["status"];
  /** An agent's email, or `none`. */
  assignee?: string;
  q?: string;
}

/** JSON texts as one JSON array. */
const jsonArray = (items: string[]) => `[${items.join(",")}]`;

/** The app's conversations, newest activity first (GET /v1/conversations), as JSON text. */
export async function conversationList(env: Env, appId: string, query: ListQuery): Promise<string> {
  const filter: ListFilter = {
    appId,
    limit: query.limit,
    before: query.before ?? null,
    status: query.status,
    assignee: query.assignee === undefined ? undefined : query.assignee === "none" ? null : normalEmail(query.assignee),
    userText: query.q?.toLowerCase(),
  };
  const rows = await listConversations(env.DB, filter);
  if (!rows) throw noLiveApp(appId);
  const { page, hasMore } = paged(rows, filter.limit);
  return jsonWithRaw({ hasMore }, { conversations: jsonArray(page.map((entry) => entry.json)) });
}

/** FTS5's own syntax never reaches it: every word is a quoted string, the last one a prefix. */
export function searchExpression(appId: string, q: string): string | null {
  const words = q.trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return null;
  const quoted = (word: string) => `"${word.replaceAll('"', '""')}"`;
  const terms = words.map((word, i) => `body : ${quoted(word)}${i === words.length - 1 ? "*" : ""}`);
  return [`app_id : ${quoted(appId)}`, ...terms].join(" AND ");
}

/** The app's messages holding every word of `q` (the last as a prefix), newest first, as JSON text. */
export async function searchConversations(env: Env, appId: string, query: { q: string; limit: number; before?: number }): Promise<string> {
  const match = searchExpression(appId, query.q);
  if (match === null) throw badRequest("q: must hold a word");
  const hits = await searchMessages(env.DB, appId, match, query.limit, query.before ?? null);
  if (!hits) throw noLiveApp(appId);
  const { page, hasMore } = paged(hits, query.limit);
  return jsonWithRaw({ hasMore }, { results: jsonArray(page) });
}

/**
 * The user's list entry as it stands; before anything is indexed for the user, as every
 * conversation starts: open, unassigned, no message yet.
 */
export async function conversationEntry(env: Env, user: AppUser): Promise<z.output<typeof conversationEntrySchema>> {
  const [entry] = await findEntries(env.DB, user.appId, [user.id]);
  if (!entry) throw notFound(`appUserId: app user '${user.id}' was deleted`);
  return JSON.parse(entry.json) as z.output<typeof conversationEntrySchema>;
}

/**
 * Closes or reopens the conversation and/or (un)assigns it. The conversation's object records the
 * change with its webhook and index jobs (one transaction: once answered, both follow); the index
 * is written here too, so that the list read right after shows it. An assignee must be an agent of
 * the app.
 */
export async function changeConversation(env: Env, user: AppUser, changes: { status?: ConversationStatus; assignee?: string | null }) {
  let assignee: TriageChange["assignee"] = changes.assignee === undefined ? undefined : null;
  if (changes.assignee) {
    const agent = await agentOf(env, user.appId, changes.assignee);
    if (!agent) throw badRequest(`assignee: '${changes.assignee}' is no agent of this app`);
    assignee = { email: agent.email, name: agent.name };
  }
  const [seed, destinations] = await Promise.all([indexedTriage(env.DB, user.id), destinationsFor(env, CHANNELS, user, { kind: "triage" })]);
  const { after } = await conversationStub(env, user.conversationId)
    .triage({ status: changes.status, assignee }, seed, user.conversationId, destinations)
    .catch(whenErased(user));
  await triageStatement(env.DB, user.appId, user.id, after).run();
  await announceChanges(env, user.appId, [user.id]);
  return conversationEntry(env, user);
}
