import type { FlatObject } from "../lib/schemas";
import { parseObject } from "./json";

/** The user text the list's user filter (q) matches: the same expression as migrations/0013's trigger. */
const USER_TEXT = "lower(concat_ws(' ', u.user_id, u.given_name, u.surname, u.email))";

/**
 * Indexes a stored message: its conversation's row (created, its activity moved on, reopened by an
 * appUser message) and the message itself. Nothing is written for a message already erased, or a
 * user no longer there; a replayed job changes nothing more.
 */
export function indexMessageStatements(
  db: D1Database,
  m: { appId: string; appUserId: string; messageId: string; role: string; received: number; json: string },
): D1PreparedStatement[] {
  return [
    db
      .prepare(
        `INSERT INTO conversation_index (app_user_id, app_id, last_activity, user_text)
         SELECT u.id, u.app_id, ?3, ${USER_TEXT} FROM app_users u
         WHERE u.id = ?1 AND u.app_id = ?2 AND NOT EXISTS (SELECT 1 FROM erased_messages WHERE message_id = ?4)
         ON CONFLICT (app_user_id) DO UPDATE SET
           last_activity = max(coalesce(last_activity, 0), excluded.last_activity),
           status = CASE WHEN ?5 = 'appUser' THEN 'open' ELSE status END`,
      )
      .bind(m.appUserId, m.appId, m.received, m.messageId, m.role),
    db
      .prepare(
        `INSERT INTO conversation_messages (message_id, app_user_id, app_id, role, received, message)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6
         WHERE EXISTS (SELECT 1 FROM conversation_index WHERE app_user_id = ?2)
           AND NOT EXISTS (SELECT 1 FROM erased_messages WHERE message_id = ?1)
         ON CONFLICT (message_id) DO NOTHING`,
      )
      .bind(m.messageId, m.appUserId, m.appId, m.role, m.received, m.json),
  ];
}

/** The business read the conversation at `at`: its appUser messages up to then are read. */
export const businessReadStatement = (db: D1Database, appUserId: string, at: number) =>
  db.prepare("UPDATE conversation_index SET business_read_at = max(business_read_at, ?) WHERE app_user_id = ?").bind(at, appUserId);

/** The app user a conversation is with, as the index's reads join them. */
export interface IndexedUser {
  appUserId: string;
  userId: string | null;
  givenName: string | null;
  surname: string | null;
  email: string | null;
  properties: FlatObject;
}

interface UserRow {
  app_user_id: string;
  user_id: string | null;
  given_name: string | null;
  surname: string | null;
  email: string | null;
  properties: string;
}

const toIndexedUser = (row: UserRow): IndexedUser => ({
  appUserId: row.app_user_id,
  userId: row.user_id,
  givenName: row.given_name,
  surname: row.surname,
  email: row.email,
  properties: parseObject(row.properties),
});

export interface IndexedConversation extends IndexedUser {
  status: "open" | "closed";
  assignee: string | null;
  assigneeName: string | null;
  lastActivity: number | null;
  /** The newest indexed message, as the contract shows it (JSON). */
  lastMessage: string | null;
  businessUnreadCount: number;
}

interface ConversationRow extends UserRow {
  status: "open" | "closed";
  assignee: string | null;
  assignee_name: string | null;
  last_activity: number | null;
  last_message: string | null;
  unread: number;
}

const toConversation = (row: ConversationRow): IndexedConversation => ({
  ...toIndexedUser(row),
  status: row.status,
  assignee: row.assignee,
  assigneeName: row.assignee_name,
  lastActivity: row.last_activity,
  lastMessage: row.last_message,
  businessUnreadCount: row.unread,
});

/**
 * An entry's columns: the user's (its primary key), the assignee's name (agents' unique key), the
 * newest message and the unread count (conversation_messages_by_user, within the one conversation:
 * the unread count walks the messages since the business's read).
 */
const ENTRY = `SELECT c.app_user_id, u.user_id, u.given_name, u.surname, u.email, u.properties, c.status, c.assignee,
    (SELECT a.name FROM agents a WHERE a.app_id = c.app_id AND a.email = c.assignee) AS assignee_name,
    c.last_activity,
    (SELECT m.message FROM conversation_messages m WHERE m.app_user_id = c.app_user_id ORDER BY m.received DESC LIMIT 1) AS last_message,
    (SELECT COUNT(*) FROM conversation_messages m WHERE m.app_user_id = c.app_user_id AND m.role = 'appUser' AND m.received > c.business_read_at) AS unread
  FROM conversation_index c JOIN app_users u ON u.id = c.app_user_id`;

const CONVERSATION_STATES = ["open", "closed"] as const;

export interface ListFilter {
  appId: string;
  limit: number;
  before: number | null;
  status: "open" | "closed" | "all";
  /** An agent's email, or null for the unassigned; undefined for any. */
  assignee?: string | null;
  /** Lower-cased text the user's fields contain. */
  userText?: string;
}

/** `%`, `_` and the escape itself taken literally in a LIKE pattern. */
const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (ch) => `\\${ch}`);

/**
 * A page of the app's conversations, newest activity first, plus one to tell whether there are more.
 * Each status is read by conversation_index_by_status (or _by_assignee) in activity order, stopped
 * at the page's end; `all` reads both and merges. The user filter is the trigram index
 * conversation_users (a substring of three characters or more; shorter ones scan that table).
 */
export async function listConversations(db: D1Database, filter: ListFilter): Promise<IndexedConversation[]> {
  const where = ["c.app_id = ?1", "c.status = ?2", "c.last_activity IS NOT NULL", "c.last_activity < ?3"];
  if (filter.assignee === null) where.push("c.assignee IS NULL");
  else if (filter.assignee !== undefined) where.push("c.assignee = ?4");
  if (filter.userText !== undefined) {
    where.push("c.seq IN (SELECT rowid FROM conversation_users WHERE user_text LIKE ?5 ESCAPE '\\')");
  }
  const query = db.prepare(`${ENTRY} WHERE ${where.join(" AND ")} ORDER BY c.last_activity DESC LIMIT ?6`);
  const statuses = filter.status === "all" ? CONVERSATION_STATES : [filter.status];
  const pages = await db.batch<ConversationRow>(
    statuses.map((status) =>
      query.bind(
        filter.appId,
        status,
        filter.before ?? Number.MAX_VALUE,
        filter.assignee ?? null,
        `%${likeLiteral(filter.userText ?? "")}%`,
        filter.limit + 1,
      ),
    ),
  );
  const rows = pages.flatMap((page) => page.results).sort((a, b) => (b.last_activity ?? 0) - (a.last_activity ?? 0));
  return rows.slice(0, filter.limit + 1).map(toConversation);
}

export async function findIndexedConversation(db: D1Database, appId: string, appUserId: string): Promise<IndexedConversation | null> {
  return (await findIndexedConversations(db, appId, [appUserId]))[0] ?? null;
}

/** The entries of those of the app's users whose conversations are indexed (each by its primary key). */
export async function findIndexedConversations(db: D1Database, appId: string, appUserIds: string[]): Promise<IndexedConversation[]> {
  const { results } = await db
    .prepare(`${ENTRY} WHERE c.app_user_id IN (SELECT value FROM json_each(?2)) AND c.app_id = ?1`)
    .bind(appId, JSON.stringify(appUserIds))
    .all<ConversationRow>();
  return results.map(toConversation);
}

/**
 * Sets the conversation's status and/or assignee (creating its row when nothing is indexed yet;
 * nothing when the user is gone); returns what they were before (open and unassigned for a new row).
 */
export async function updateConversationState(
  db: D1Database,
  appId: string,
  appUserId: string,
  changes: { status?: "open" | "closed"; assignee?: string | null },
): Promise<{ status: string; assignee: string | null }> {
  const [before] = await db.batch<{ status: string; assignee: string | null }>([
    db.prepare("SELECT status, assignee FROM conversation_index WHERE app_user_id = ?").bind(appUserId),
    db
      .prepare(
        `INSERT INTO conversation_index (app_user_id, app_id, status, assignee, user_text)
         SELECT u.id, u.app_id, coalesce(?3, 'open'), ?4, ${USER_TEXT} FROM app_users u WHERE u.id = ?1 AND u.app_id = ?2
         ON CONFLICT (app_user_id) DO UPDATE SET
           status = coalesce(?3, status),
           assignee = CASE WHEN ?5 THEN ?4 ELSE assignee END`,
      )
      .bind(appUserId, appId, changes.status ?? null, changes.assignee ?? null, changes.assignee !== undefined ? 1 : 0),
  ]);
  return before.results[0] ?? { status: "open", assignee: null };
}

export interface SearchHit extends IndexedUser {
  /** The message as the contract shows it (JSON). */
  message: string;
}

/**
 * A page of the app's messages matching an FTS5 query, newest indexed first, plus one. Served by
 * conversation_search: the app's token and the words' posting lists intersected, walked in
 * descending rowid (indexing) order, stopped at the page's end.
 */
export async function searchMessages(db: D1Database, appId: string, match: string, limit: number, before: number | null): Promise<SearchHit[]> {
  const { results } = await db
    .prepare(
      `SELECT m.app_user_id, u.user_id, u.given_name, u.surname, u.email, u.properties, m.message
       FROM conversation_search s
       JOIN conversation_messages m ON m.seq = s.rowid
       JOIN app_users u ON u.id = m.app_user_id
       WHERE conversation_search MATCH ?1 AND m.app_id = ?2 AND m.received < ?3
       ORDER BY s.rowid DESC LIMIT ?4`,
    )
    .bind(match, appId, before ?? Number.MAX_VALUE, limit + 1)
    .all<UserRow & { message: string }>();
  return results.map((row) => ({ ...toIndexedUser(row), message: row.message }));
}
