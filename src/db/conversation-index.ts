import type { ConversationStatus } from "../enums";

/**
 * Where the business stands with a conversation: open or closed, and who answers it. Its
 * Conversation object records it and numbers each change (`seq`); the index keeps the number
 * beside the state it shows, so that a change reaching it late never undoes a newer one.
 */
export interface Triage {
  status: ConversationStatus;
  /** The agent's email. */
  assignee: string | null;
  seq: number;
}

/** The user text the list's user filter (q) matches: the same expression as migrations/0013's trigger. */
const USER_TEXT = "lower(concat_ws(' ', u.user_id, u.given_name, u.surname, u.email))";

/**
 * The user a job names, or the one it was merged into since: a job written before a merge indexes
 * into the survivor's conversation, where the merge folded the merged user's (foldIndexedStatements).
 */
const liveUser = (param: string) => `(SELECT coalesce(merged_into, id) FROM app_users WHERE id = ${param})`;

/** A message's JSON with the merged user's authorship given to the survivor, as the merge does in the conversation. */
const authoredBy = (json: string, from: string, to: string) =>
  `CASE WHEN json_extract(${json}, '$.authorId') = ${from} THEN json_set(${json}, '$.authorId', ${to}) ELSE ${json} END`;

/** A stored message as an index job carries it. */
export interface IndexedMessage {
  appId: string;
  appUserId: string;
  messageId: string;
  role: string;
  received: number;
  /** The message as the contract shows it (JSON). */
  json: string;
  avatarUrl: string | null;
  /** The conversation's triage state as its object knew it when storing the message; null before the business first changed it. */
  triage: Triage | null;
}

/**
 * Indexes a stored message: its conversation's row (created, its activity and avatar moved on, its
 * triage state brought up to the message's) and the message itself. An appUser message reopens a
 * closed conversation: its object says so by the state it carries; a message from an object that
 * never numbered a state reopens a row no object numbered either. Nothing is written for a
 * message already erased, or a user no longer there; a replayed job changes nothing more.
 */
export function indexMessageStatements(db: D1Database, m: IndexedMessage): D1PreparedStatement[] {
  return [
    db
      .prepare(
        `INSERT INTO conversation_index (app_user_id, app_id, last_activity, user_text, avatar_url, status, assignee, state_seq)
         SELECT u.id, u.app_id, ?3, ${USER_TEXT}, CASE WHEN ?5 = 'appUser' THEN ?6 END, coalesce(?7, 'open'), ?8, coalesce(?9, 0)
         FROM app_users u
         WHERE u.id = ${liveUser("?1")} AND u.app_id = ?2 AND NOT EXISTS (SELECT 1 FROM erased_messages WHERE message_id = ?4)
         ON CONFLICT (app_user_id) DO UPDATE SET
           last_activity = max(coalesce(last_activity, 0), excluded.last_activity),
           avatar_url = CASE WHEN ?5 = 'appUser' AND excluded.last_activity >= coalesce(last_activity, 0) THEN excluded.avatar_url ELSE avatar_url END,
           status = CASE
             WHEN ?9 IS NOT NULL THEN CASE WHEN state_seq < ?9 THEN excluded.status ELSE status END
             WHEN ?5 = 'appUser' AND state_seq = 0 THEN 'open'
             ELSE status END,
           assignee = CASE WHEN ?9 IS NOT NULL AND state_seq < ?9 THEN excluded.assignee ELSE assignee END,
           state_seq = max(state_seq, coalesce(?9, 0))`,
      )
      .bind(m.appUserId, m.appId, m.received, m.messageId, m.role, m.avatarUrl, m.triage?.status ?? null, m.triage?.assignee ?? null, m.triage?.seq ?? null),
    db
      .prepare(
        `INSERT INTO conversation_messages (message_id, app_user_id, app_id, role, received, message)
         SELECT ?1, r.id, ?3, ?4, ?5, CASE WHEN r.id <> ?2 THEN ${authoredBy("?6", "?2", "r.id")} ELSE ?6 END
         FROM (SELECT ${liveUser("?2")} AS id) r
         WHERE EXISTS (SELECT 1 FROM conversation_index WHERE app_user_id = r.id)
           AND NOT EXISTS (SELECT 1 FROM erased_messages WHERE message_id = ?1)
         ON CONFLICT (message_id) DO NOTHING`,
      )
      .bind(m.messageId, m.appUserId, m.appId, m.role, m.received, m.json),
  ];
}

/**
 * A conversation's appUser messages received after `after` (and up to `upTo`): a range of
 * conversation_messages_by_user, so it reads the messages in that span only, never the whole conversation.
 */
const unreadBetween = (appUserId: string, after: string, upTo?: string) =>
  `(SELECT COUNT(*) FROM conversation_messages m
    WHERE m.app_user_id = ${appUserId} AND m.received > ${after}${upTo === undefined ? "" : ` AND m.received <= ${upTo}`} AND m.role = 'appUser')`;

/**
 * The business read the conversation at `at`: its appUser messages up to then are read. The
 * unread count becomes the messages indexed after `at` (none, unless the read reached the index
 * after newer messages did), counted from `at` on; an older read than the row's changes nothing.
 */
export const businessReadStatement = (db: D1Database, appUserId: string, at: number) =>
  db
    .prepare(
      `UPDATE conversation_index SET
         business_read_at = max(business_read_at, ?1),
         business_unread = CASE WHEN ?1 > business_read_at THEN ${unreadBetween("conversation_index.app_user_id", "?1")} ELSE business_unread END
       WHERE app_user_id = ${liveUser("?2")}`,
    )
    .bind(at, appUserId);

/** The triage state the index shows for a conversation, as its object adopts it before its first change. */
export async function indexedTriage(db: D1Database, appUserId: string): Promise<Triage> {
  const row = await db
    .prepare("SELECT status, assignee, state_seq FROM conversation_index WHERE app_user_id = ?")
    .bind(appUserId)
    .first<{ status: ConversationStatus; assignee: string | null; state_seq: number }>();
  return row ? { status: row.status, assignee: row.assignee, seq: row.state_seq } : { status: "open", assignee: null, seq: 0 };
}

/**
 * Shows a conversation's triage state, unless the index shows a newer one already: both the
 * change's response path and its index job write it, in whichever order they arrive. Creates the
 * row before the conversation's first indexed message; nothing for a user gone or merged away.
 */
export const triageStatement = (db: D1Database, appId: string, appUserId: string, triage: Triage) =>
  db
    .prepare(
      `INSERT INTO conversation_index (app_user_id, app_id, status, assignee, state_seq, user_text)
       SELECT u.id, u.app_id, ?3, ?4, ?5, ${USER_TEXT} FROM app_users u WHERE u.id = ?1 AND u.app_id = ?2 AND u.merged_into IS NULL
       ON CONFLICT (app_user_id) DO UPDATE SET status = excluded.status, assignee = excluded.assignee, state_seq = excluded.state_seq
       WHERE state_seq < excluded.state_seq`,
    )
    .bind(appUserId, appId, triage.status, triage.assignee, triage.seq);

/**
 * Rebuilds the users' stored list entries (migrations/0018), for the statements that rewrite many
 * of a conversation's messages at once: no trigger watches those rewrites, so that each rebuilds an
 * entry once per conversation rather than once per message.
 */
const rebuiltEntries = (db: D1Database, appUserIds: string[]) =>
  db
    .prepare(
      `UPDATE conversation_index SET (user_json, entry) = (SELECT user_json, entry FROM conversation_entries e WHERE e.app_user_id = conversation_index.app_user_id)
       WHERE app_user_id IN (SELECT value FROM json_each(?))`,
    )
    .bind(JSON.stringify(appUserIds));

/** The read mark a fold keeps: the earlier of the two, of the rows that hold messages. */
const KEPT_READ = `CASE
  WHEN conversation_index.last_activity IS NULL THEN excluded.business_read_at
  WHEN excluded.last_activity IS NULL THEN conversation_index.business_read_at
  ELSE min(conversation_index.business_read_at, excluded.business_read_at) END`;

/**
 * A merge's share of the index, in the merge's D1 transaction: the merged user's conversation row
 * and messages fold into the survivor's (its row created from the merged one's if it had none; the
 * survivor's state and avatar win, the read mark is the earlier, so no unread message is hidden),
 * and the merged user's row goes: no stale entry is left in the list or search. The unread counts
 * add up, plus the messages of the side read later that the earlier mark makes unread again
 * (counted over that span only, before the messages move).
 */
export function foldIndexedStatements(db: D1Database, mergedId: string, survivorId: string): D1PreparedStatement[] {
  return [
    db
      .prepare(
        `INSERT INTO conversation_index (app_user_id, app_id, status, assignee, last_activity, business_read_at, business_unread, avatar_url, user_text)
         SELECT u.id, a.app_id, a.status, a.assignee, a.last_activity, a.business_read_at, a.business_unread, a.avatar_url, ${USER_TEXT}
         FROM conversation_index a JOIN app_users u ON u.id = ?2
         WHERE a.app_user_id = ?1
         ON CONFLICT (app_user_id) DO UPDATE SET
           last_activity = nullif(max(coalesce(last_activity, 0), coalesce(excluded.last_activity, 0)), 0),
           business_read_at = ${KEPT_READ},
           business_unread = business_unread + excluded.business_unread
             + ${unreadBetween("?2", KEPT_READ, "conversation_index.business_read_at")}
             + ${unreadBetween("?1", KEPT_READ, "excluded.business_read_at")},
           avatar_url = coalesce(avatar_url, excluded.avatar_url)`,
      )
      .bind(mergedId, survivorId),
    db
      .prepare(`UPDATE conversation_messages SET app_user_id = ?2, message = ${authoredBy("message", "?1", "?2")} WHERE app_user_id = ?1`)
      .bind(mergedId, survivorId),
    db.prepare("DELETE FROM conversation_index WHERE app_user_id = ?").bind(mergedId),
    rebuiltEntries(db, [survivorId]),
  ];
}

/** A profile erased: the index's copies of the users' messages lose the name, email and avatar they were signed with, as the conversation's do. */
export const redactIndexedAuthorsStatements = (db: D1Database, appUserIds: string[]) => [
  db
    .prepare(
      `UPDATE conversation_messages SET message = json_remove(message, '$.name', '$.email', '$.avatarUrl')
       WHERE app_user_id IN (SELECT value FROM json_each(?1)) AND role = 'appUser'`,
    )
    .bind(JSON.stringify(appUserIds)),
  db.prepare("UPDATE conversation_index SET avatar_url = NULL WHERE app_user_id IN (SELECT value FROM json_each(?))").bind(JSON.stringify(appUserIds)),
  rebuiltEntries(db, appUserIds),
];

/**
 * The reads below answer with JSON in the shapes the contract's list shows
 * (src/presenters/conversation-entry.ts has their schemas), built by SQLite where its inputs
 * change: each indexed conversation's row stores its user and its entry, as the view
 * conversation_entries defines them and migrations/0018's triggers keep them. A page goes out
 * as its rows' text, never parsed into objects and serialised again.
 */

/** A conversation's list entry as JSON, and when it was last active (null before its first indexed message). */
export interface EntryJson {
  appUserId: string;
  lastActivity: number | null;
  json: string;
}

interface EntryRow {
  app_user_id: string;
  last_activity: number | null;
  entry: string;
}

const toEntryJson = (row: EntryRow): EntryJson => ({ appUserId: row.app_user_id, lastActivity: row.last_activity, json: row.entry });

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
 * A row the app (?1) answers with only while it is live: a read's query starts with it, so that
 * one statement both checks the app and reads its rows (one D1 round trip, one statement).
 */
const LIVE_MARK = "SELECT NULL AS app_user_id, NULL AS last_activity, NULL AS entry FROM apps WHERE id = ?1 AND deleted_at IS NULL";
type LiveMark = { app_user_id: null; last_activity: null; entry: null };
const isLiveMark = (row: EntryRow | LiveMark): row is LiveMark => row.entry === null;
/** A read's rows without its live mark, or null when the mark is missing (the app is gone or being deleted). */
const rowsIfLive = (results: (EntryRow | LiveMark)[]): EntryRow[] | null =>
  results.some(isLiveMark) ? results.filter((row): row is EntryRow => !isLiveMark(row)) : null;

/**
 * A page of the app's conversations, newest activity first, plus one to tell whether there are
 * more; null when the app is gone or being deleted (checked by the same statement). Each status is
 * read by conversation_index_by_status (or _by_assignee) in activity order, stopped at the page's
 * end; `all` reads both and merges. The user filter is the trigram index conversation_users (a
 * substring of three characters or more; shorter ones scan that table).
 */
export async function listConversations(db: D1Database, filter: ListFilter): Promise<EntryJson[] | null> {
  const statuses = filter.status === "all" ? CONVERSATION_STATES : [filter.status];
  const where = (statusParam: string) => {
    const conditions = ["c.app_id = ?1", `c.status = ${statusParam}`, "c.last_activity IS NOT NULL", "c.last_activity < ?3"];
    if (filter.assignee === null) conditions.push("c.assignee IS NULL");
    else if (filter.assignee !== undefined) conditions.push("c.assignee = ?4");
    if (filter.userText !== undefined) conditions.push("c.seq IN (SELECT rowid FROM conversation_users WHERE user_text LIKE ?5 ESCAPE '\\')");
    return conditions.join(" AND ");
  };
  const pages = statuses.map(
    (_, i) => `SELECT * FROM (SELECT c.app_user_id, c.last_activity, c.entry FROM conversation_index c
       WHERE ${where(i === 0 ? "?2" : "?7")} ORDER BY c.last_activity DESC LIMIT ?6)`,
  );
  const { results } = await db
    .prepare([LIVE_MARK, ...pages].join(" UNION ALL "))
    .bind(filter.appId, statuses[0], filter.before ?? Number.MAX_VALUE, filter.assignee ?? null, `%${likeLiteral(filter.userText ?? "")}%`, filter.limit + 1, ...statuses.slice(1))
    .all<EntryRow | LiveMark>();
  const rows = rowsIfLive(results);
  return rows && rows.sort((a, b) => (b.last_activity ?? 0) - (a.last_activity ?? 0)).slice(0, filter.limit + 1).map(toEntryJson);
}

/**
 * The entries of those of the app's users who are still there, indexed or not. Each is found by its
 * primary key: CROSS JOIN keeps SQLite from reading the app's users by app_users_by_app instead,
 * which it otherwise prefers, knowing nothing of the ids' count.
 */
export async function findEntries(db: D1Database, appId: string, appUserIds: string[]): Promise<EntryJson[]> {
  const { results } = await db
    .prepare(
      `SELECT e.app_user_id, e.last_activity, e.entry FROM json_each(?2) ids CROSS JOIN conversation_entries e ON e.app_user_id = ids.value
       WHERE e.app_id = ?1 AND e.merged_into IS NULL`,
    )
    .bind(appId, JSON.stringify(appUserIds))
    .all<EntryRow>();
  return results.map(toEntryJson);
}

/**
 * A page of the app's messages matching an FTS5 query, newest indexed first, plus one, each with
 * its user (as JSON: `{"appUser", "message"}`); null when the app is gone or being deleted
 * (checked by the same statement). Served by conversation_search: the app's token and the words'
 * posting lists intersected, walked in descending rowid (indexing) order, stopped at the page's end.
 */
export async function searchMessages(db: D1Database, appId: string, match: string, limit: number, before: number | null): Promise<string[] | null> {
  const { results } = await db
    .prepare(
      `${LIVE_MARK} UNION ALL SELECT * FROM (
         SELECT NULL, NULL, '{"appUser":' || c.user_json || ',"message":' || m.message || '}'
         FROM conversation_search s
         JOIN conversation_messages m ON m.seq = s.rowid
         JOIN conversation_index c ON c.app_user_id = m.app_user_id
         WHERE conversation_search MATCH ?2 AND m.app_id = ?1 AND m.received < ?3
         ORDER BY s.rowid DESC LIMIT ?4)`,
    )
    .bind(appId, match, before ?? Number.MAX_VALUE, limit + 1)
    .all<EntryRow | LiveMark>();
  return rowsIfLive(results)?.map((row) => row.entry) ?? null;
}
