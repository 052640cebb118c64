// The benchmark's floor: the naive design Parley's post must compete with, measured in the same
// run on the same machine. A bare Durable Object append (one SQLite insert, the stored message
// back), the same behind one D1 read by primary key, and that behind the two rate-limit checks an
// app-token request must pass (the caller's budget, then its app's). No auth, no validation. And
// the naive webhook: that append sending the message to a queue right after its insert (no
// outbox, no alarm), and a consumer that POSTs each to the webhook target, as scenario 7 does.
// Then the naive read: the two rate limits, the D1 read of the user, and the newest 100 messages
// of its conversation as JSON; and the naive init: the two rate limits, a D1 read (the app), and
// one D1 batch writing the new device and its user.
import { DurableObject } from "cloudflare:workers";

interface FloorEnv {
  DB: D1Database;
  CALLER_LIMIT: RateLimit;
  APP_LIMIT: RateLimit;
  LOG: DurableObjectNamespace<Log>;
  HOOKS: Queue<string>;
  /** Where the consumer POSTs each message (the benchmark's webhook probe). */
  HOOK_TARGET: string;
}

export class Log extends DurableObject<FloorEnv> {
  private lastMs = 0;

  constructor(ctx: DurableObjectState, env: FloorEnv) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS messages (received_ms INTEGER PRIMARY KEY, id TEXT NOT NULL, body TEXT NOT NULL)");
  }

  append(body: string): { _id: string; received: number } {
    const receivedMs = Math.max(Date.now(), this.lastMs + 1);
    this.lastMs = receivedMs;
    const id = crypto.randomUUID();
    this.ctx.storage.sql.exec("INSERT INTO messages (received_ms, id, body) VALUES (?, ?, ?)", receivedMs, id, body);
    return { _id: id, received: receivedMs / 1000 };
  }

  /** The newest 100 messages, oldest first, as JSON text. */
  newest(): string {
    const rows = this.ctx.storage.sql
      .exec<{ received_ms: number; id: string; body: string }>("SELECT received_ms, id, body FROM messages ORDER BY received_ms DESC LIMIT 100")
      .toArray()
      .reverse();
    return `[${rows.map((row) => `{"_id":"${row.id}","received":${row.received_ms / 1000},"body":${JSON.stringify(row.body)}}`).join(",")}]`;
  }

  /** The append, then its message on the queue before the answer. */
  async appendAndSend(body: string): Promise<{ _id: string; received: number }> {
    const message = this.append(body);
    await this.env.HOOKS.send(JSON.stringify({ messages: [{ ...message, body }] }), { contentType: "text" });
    return message;
  }
}

const append = async (env: FloorEnv, conversation: string, request: Request, withHook: boolean) => {
  const log = env.LOG.get(env.LOG.idFromName(conversation));
  const body = await request.text();
  return Response.json({ message: await (withHook ? log.appendAndSend(body) : log.append(body)) }, { status: 201 });
};

const limited = ["limited-read-append", "webhook-append", "read", "init"];

/** A new device and its user, both written in one D1 batch after the app's lookup. */
async function init(env: FloorEnv, deviceId: string): Promise<Response> {
  const app = await env.DB.prepare("SELECT conversation FROM users WHERE id = 'u0'").first<{ conversation: string }>();
  if (!app) return new Response("no such app", { status: 404 });
  const userId = crypto.randomUUID();
  await env.DB.batch([
    env.DB.prepare("INSERT INTO users (id, conversation) VALUES (?, ?)").bind(userId, userId),
    env.DB.prepare("INSERT INTO devices (id, user_id) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id").bind(deviceId, userId),
  ]);
  return Response.json({ appUser: { _id: userId } });
}

export default {
  async fetch(request, env) {
    const [, route, id] = new URL(request.url).pathname.split("/");
    if (route === "append") return append(env, id, request, false);
    if (limited.includes(route)) {
      await env.CALLER_LIMIT.limit({ key: "caller" });
      await env.APP_LIMIT.limit({ key: "app" });
    }
    if (route === "init") return init(env, id);
    if (route === "read") {
      const user = await env.DB.prepare("SELECT conversation FROM users WHERE id = ?").bind(id).first<{ conversation: string }>();
      if (!user) return new Response("no such user", { status: 404 });
      const messages = await env.LOG.get(env.LOG.idFromName(user.conversation)).newest();
      return new Response(`{"conversation":{"messages":${messages}}}`, { headers: { "content-type": "application/json" } });
    }
    if (route === "read-append" || route === "limited-read-append" || route === "webhook-append") {
      const user = await env.DB.prepare("SELECT conversation FROM users WHERE id = ?").bind(id).first<{ conversation: string }>();
      return user ? append(env, user.conversation, request, route === "webhook-append") : new Response("no such user", { status: 404 });
    }
    return new Response("ok");
  },

  /** Each message POSTed to the target, and acknowledged once it answered 2xx (else retried). */
  async queue(batch, env) {
    await Promise.all(
      batch.messages.map(async (message) => {
        const response = await fetch(env.HOOK_TARGET, { method: "POST", headers: { "content-type": "application/json" }, body: message.body });
        await response.body?.cancel();
        if (response.ok) message.ack();
        else message.retry();
      }),
    );
  },
} satisfies ExportedHandler<FloorEnv, string>;
