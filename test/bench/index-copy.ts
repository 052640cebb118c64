// Parley's conversation index of one app, read from the local state (D1's file) for the floor's
// copy: each conversation's entry as the list shows it, and each indexed message with its text.
import { join } from "node:path";
import { sleep } from "../support/pace.ts";
import { readConversations, readIndexedMessages, readStateDatabases } from "../support/workerd.ts";
import type { IndexCopy } from "./floor-loads.ts";

export function readIndexCopy(persistTo: string, appId: string, q: string): IndexCopy {
  const copies = readStateDatabases(join(persistTo, "v3", "d1"), (db) => {
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'conversation_messages'").get()) return null;
    const conversations = db
      .prepare(
        `SELECT c.app_user_id AS id, c.last_activity AS lastActivity, c.status,
           json_object('_id', u.id, 'userId', u.user_id, 'properties', json(u.properties)) AS appUser,
           (SELECT m.message FROM conversation_messages m WHERE m.app_user_id = c.app_user_id ORDER BY m.received DESC LIMIT 1) AS lastMessage,
           (SELECT COUNT(*) FROM conversation_messages m WHERE m.app_user_id = c.app_user_id AND m.role = 'appUser' AND m.received > c.business_read_at) AS unread
         FROM conversation_index c JOIN app_users u ON u.id = c.app_user_id
         WHERE c.app_id = ? AND c.last_activity IS NOT NULL`,
      )
      .all(appId)
      .map((row) => ({
        id: String(row.id),
        appId,
        lastActivity: Number(row.lastActivity),
        appUser: String(row.appUser),
        entry:
          `{"appUser":${row.appUser},"lastMessage":${row.lastMessage},"lastActivity":${row.lastActivity},` +
          `"businessUnreadCount":${row.unread},"status":"${row.status}","assignee":null}`,
      }));
    const messages = db
      .prepare("SELECT seq, app_user_id AS conversation, json_extract(message, '$.text') AS text, message FROM conversation_messages WHERE app_id = ? ORDER BY seq")
      .all(appId)
      .map((row) => ({ seq: Number(row.seq), conversation: String(row.conversation), text: String(row.text ?? ""), message: String(row.message) }));
    return { appId, q, conversations, messages };
  });
  const copy = copies.find((found) => found !== null);
  if (!copy) throw new Error("no conversation index in the local D1 state");
  return copy;
}

/**
 * Polls `pending` (a count of what is still to be done) every second until it is 0 or `waitMs`
 * passed; returns its last count.
 */
export async function waitNone(pending: () => number, waitMs: number): Promise<number> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const left = pending();
    if (left === 0 || Date.now() > deadline) return left;
    await sleep(1_000);
  }
}

/**
 * Waits until the index holds every message stored so far (or `waitMs` passed); returns how many
 * it does not hold.
 */
export const waitIndexed = (persistTo: string, waitMs: number) =>
  waitNone(() => {
    const indexed = readIndexedMessages(persistTo);
    return [...readConversations(persistTo).messageIds].filter((id) => !indexed.has(id)).length;
  }, waitMs);
