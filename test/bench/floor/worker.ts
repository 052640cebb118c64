// The benchmark's floor: the naive design Parley's post must compete with, measured in the same
// run on the same machine. A bare Durable Object append (one SQLite insert, the stored message
// back), the same behind one D1 read by primary key, and that behind the two rate-limit checks an
// app-token request must pass (the caller's budget, then its app's). No auth, no validation. And
// the naive webhook: that append sending the message to a queue right after its insert (no
// outbox, no alarm), and a consumer that POSTs each to the webhook target, as scenario 7 does.
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

export default {
  async fetch(request, env) {
    const [, route, id] = new URL(request.url).pathname.split("/");
    if (route === "append") return append(env, id, request, false);
    if (route === "limited-read-append" || route === "webhook-append") {
      await env.CALLER_LIMIT.limit({ key: "caller" });
      await env.APP_LIMIT.limit({ key: "app" });
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
