// The Desk API (/desk/api) as the page calls it: same origin, so the Access cookie rides along and
// the browser's own Origin header is what the API checks on every change.
import type { Agent, DeskApp, Entry, History, ListFilter, Message, SearchResult } from "./types.ts";

/** An answer other than 2xx: the API's error description, and its status. */
export class DeskError extends Error {
  constructor(
    readonly status: number,
    description: string,
  ) {
    super(description);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, credentials: "same-origin", headers: { accept: "application/json" } };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { ...init.headers, "content-type": "application/json" };
  }
  const response = await fetch(`/desk/api${path}`, init);
  const json = await response.json().catch(() => ({}));
  if (!response.ok) throw new DeskError(response.status, json?.error?.description ?? `HTTP ${response.status}`);
  return json as T;
}

const query = (params: Record<string, string | number | undefined>) => {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== "") search.set(name, String(value));
  const text = search.toString();
  return text ? `?${text}` : "";
};

/** The calls of one app. */
export class AppApi {
  private readonly base: string;
  constructor(readonly appId: string) {
    this.base = `/apps/${encodeURIComponent(appId)}`;
  }

  private user(appUserId: string) {
    return `${this.base}/appusers/${encodeURIComponent(appUserId)}`;
  }

  agents() {
    return call<{ me: Agent; agents: Agent[] }>("GET", `${this.base}/agents`);
  }

  conversations(filter: ListFilter, me: string, before?: number) {
    const params = { status: filter.status, assignee: filter.mine ? me : undefined, q: filter.q.trim() || undefined, before };
    return call<{ conversations: Entry[]; hasMore: boolean }>("GET", `${this.base}/conversations${query(params)}`);
  }

  search(q: string, before?: number) {
    return call<{ results: SearchResult[]; hasMore: boolean }>("GET", `${this.base}/conversations/search${query({ q, before })}`);
  }

  history(appUserId: string, before?: number) {
    return call<History>("GET", `${this.user(appUserId)}/messages${query({ before })}`);
  }

  send(appUserId: string, text: string) {
    return call<{ message: Message }>("POST", `${this.user(appUserId)}/messages`, { text });
  }

  sendImage(appUserId: string, file: File) {
    const form = new FormData();
    form.append("source", file);
    return call<{ message: Message }>("POST", `${this.user(appUserId)}/images`, form);
  }

  read(appUserId: string) {
    return call<object>("POST", `${this.user(appUserId)}/read`);
  }

  typing(appUserId: string, active: boolean) {
    return call<object>("POST", `${this.user(appUserId)}/activity`, { type: active ? "typing:start" : "typing:stop" });
  }

  conversation(appUserId: string) {
    return call<{ conversation: Entry }>("GET", `${this.user(appUserId)}/conversation`);
  }

  change(appUserId: string, changes: { status?: "open" | "closed"; assignee?: string | null }) {
    return call<{ conversation: Entry }>("PUT", `${this.user(appUserId)}/conversation`, changes);
  }

  /** The live channel's URL (same origin, ws: or wss: as the page). */
  liveUrl() {
    return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/desk/api${this.base}/live`;
  }
}

export const deskApps = () => call<{ email: string; apps: DeskApp[] }>("GET", "/apps");
