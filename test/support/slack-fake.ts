// A fake of Slack's Web API, runtime-neutral: each call is answered as Slack would (form-encoded
// requests with the bot token; `{ ok, ... }` answers) and recorded. Tests script a method's next
// answers (a 429, an ok: false) with `script`. The worker tests serve it through a fetch spy,
// the end-to-end suite on a loopback HTTP server.

export interface SlackCall {
  method: string;
  token: string;
  /** The form's fields, structured ones (blocks, metadata) parsed. */
  args: Record<string, any>;
  /** Whether the fake took it (200 and ok: true): the calls a team would see in Slack. */
  taken?: boolean;
  /** The ts of the message a taken chat.postMessage made. */
  ts?: string;
}

export type SlackAnswer = { status?: number; headers?: Record<string, string>; body?: unknown };

export const BOT_TOKEN = "xoxb-1234-5678-parleytest";
export const SIGNING_SECRET = "0123456789abcdef0123456789abcdef";
export const CHANNEL = "C0PARLEY01";
export const TEAM = "T0PARLEY";
export const BOT_USER = "U0PARLEYBOT";
/** The image a private file URL serves: a 1×1 PNG. */
export const PNG = Uint8Array.from(atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="), (c) => c.charCodeAt(0));

export class SlackFake {
  readonly calls: SlackCall[] = [];
  private readonly scripted = new Map<string, SlackAnswer[]>();
  private ts = 1_700_000_000;
  /** Tokens auth.test accepts. */
  tokens = new Set([BOT_TOKEN]);

  /** The next answers of a method, in order; after them it answers as Slack would. */
  script(method: string, ...answers: SlackAnswer[]): void {
    this.scripted.set(method, [...(this.scripted.get(method) ?? []), ...answers]);
  }

  of(method: string): SlackCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** The calls of a method the fake took: what the workspace shows. */
  taken(method: string): SlackCall[] {
    return this.of(method).filter((call) => call.taken);
  }

  /** Answers one request to `{base}/{method}`, or to a private file URL (`/files/...`). */
  async answer(path: string, headers: Headers, body: string): Promise<{ status: number; headers: Record<string, string>; body: string | Uint8Array }> {
    const token = (headers.get("authorization") ?? "").replace(/^Bearer /, "");
    if (path.startsWith("/files/")) {
      this.calls.push({ method: "file", token, args: { path } });
      return token === BOT_TOKEN ? { status: 200, headers: { "content-type": "image/png" }, body: PNG } : { status: 403, headers: {}, body: "" };
    }
    const method = path.replace(/^\//, "");
    const args: Record<string, any> = {};
    for (const [key, value] of new URLSearchParams(body)) args[key] = /^[[{]/.test(value) ? JSON.parse(value) : value;
    const call: SlackCall = { method, token, args };
    this.calls.push(call);
    const next = this.scripted.get(method)?.shift();
    if (next) return { status: next.status ?? 200, headers: { "content-type": "application/json", ...next.headers }, body: JSON.stringify(next.body ?? {}) };
    const answer = this.slackAnswer(method, token, args);
    call.taken = answer.ok;
    if (answer.ok && typeof answer.ts === "string") call.ts = answer.ts;
    return { status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(answer) };
  }

  private slackAnswer(method: string, token: string, args: Record<string, any>): { ok: boolean } & Record<string, unknown> {
    if (!this.tokens.has(token)) return { ok: false, error: "invalid_auth" };
    switch (method) {
      case "auth.test":
        return { ok: true, team_id: TEAM, user_id: BOT_USER };
      case "chat.postMessage":
        return { ok: true, channel: args.channel, ts: `${++this.ts}.000100` };
      // What the channel shows, with each message's metadata: a thread's replies (its parent first), or the messages outside threads.
      case "conversations.replies":
      case "conversations.history": {
        const shown = this.taken("chat.postMessage").filter((post) =>
          method === "conversations.replies" ? post.ts === args.ts || post.args.thread_ts === args.ts : post.args.thread_ts === undefined,
        );
        return { ok: true, messages: shown.map((post) => ({ ts: post.ts, ...(post.args.metadata ? { metadata: post.args.metadata } : {}) })) };
      }
      case "users.info":
        return {
          ok: true,
          user: { id: args.user, name: "ana", profile: { real_name: `Ana ${args.user}`, image_192: `https://avatars.slack.test/${args.user}.png` } },
        };
      default:
        return { ok: false, error: "unknown_method" };
    }
  }
}

/** Signs an Events API body as Slack does: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`. */
export async function slackSignature(secret: string, timestamp: number, body: string): Promise<Record<string, string>> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`v0:${timestamp}:${body}`)));
  const hex = Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
  return { "x-slack-request-timestamp": String(timestamp), "x-slack-signature": `v0=${hex}`, "content-type": "application/json" };
}

let events = 0;

/** A message event in a thread, as the Events API wraps it. */
export function threadReply(threadTs: string, text: string, extra: Record<string, unknown> = {}, eventId = `Ev${Date.now()}${++events}`) {
  return {
    type: "event_callback",
    team_id: TEAM,
    event_id: eventId,
    event: { type: "message", channel: CHANNEL, user: "U0ANSWERER", text, ts: `${1_800_000_000 + events}.000200`, thread_ts: threadTs, ...extra },
  };
}
