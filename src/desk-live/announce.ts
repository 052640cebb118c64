import { WATCHER_EMAIL, WATCHER_EXPIRES } from "./room";

const roomOf = (env: Env, appId: string) => env.DESK_ROOMS.get(env.DESK_ROOMS.idFromName(appId));

/**
 * Tells the app's open Desks that these users' conversations changed (committed to the index
 * already: what the room reads, and what a page refetches, includes the change). A failure is only
 * logged: the change stands, and a page that missed it sees it on its next fetch.
 */
export async function announceChanges(env: Env, appId: string, appUserIds: string[]): Promise<void> {
  if (appUserIds.length === 0) return;
  await roomOf(env, appId)
    .changed(appId, appUserIds)
    .catch((error: unknown) => console.error(`desk live: telling app ${appId}'s room failed`, error));
}

/**
 * One message of the user's conversation was erased (committed): the app's open Desks drop it
 * from the conversation they show, and get the user's entry as announceChanges sends it.
 */
export async function announceErased(env: Env, user: { appId: string; id: string }, messageId: string): Promise<void> {
  await roomOf(env, user.appId)
    .erased(user.appId, user.id, messageId)
    .catch((error: unknown) => console.error(`desk live: the erasure of ${messageId} in app ${user.appId} not shown`, error));
}

/** The app user started or stopped typing: shown in the app's open Desks. */
export async function announceTyping(env: Env, user: { appId: string; id: string }, active: boolean): Promise<void> {
  await roomOf(env, user.appId)
    .typing(user.id, active)
    .catch((error: unknown) => console.error(`desk live: typing in app ${user.appId} not shown`, error));
}

/** The agent no longer answers for the app: their open Desks of it are closed. */
export async function announceAgentRemoved(env: Env, appId: string, email: string): Promise<void> {
  await roomOf(env, appId)
    .agentRemoved(email)
    .catch((error: unknown) => console.error(`desk live: closing ${email}'s sockets of app ${appId} failed`, error));
}

/** The WebSocket of `GET /desk/api/apps/:appId/live`, handed to the app's room with who opened it. */
export function openLive(env: Env, appId: string, request: Request, watcher: { email: string; expiresAt?: number }): Promise<Response> {
  const headers = new Headers(request.headers);
  headers.set(WATCHER_EMAIL, watcher.email);
  headers.set(WATCHER_EXPIRES, String(watcher.expiresAt ?? 0));
  return roomOf(env, appId).fetch(request.url, { headers });
}
