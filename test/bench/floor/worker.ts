// The benchmark's floor: the naive design Parley's post must compete with, measured in the same
// run on the same machine. A bare Durable Object append (one SQLite insert, the stored message
// back), the same behind one D1 read by primary key, and that behind the two rate-limit checks an
// app-token request must pass (the caller's budget, then its app's). No auth, no validation, no
// webhooks.
import { DurableObject } from "cloudflare:workers";

interface FloorEnv {
  DB: D1Database;
  CALLER_LIMIT: RateLimit;
  APP_LIMIT: RateLimit;
  LOG: DurableObjectNamespace<Log>;
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
}

const append = async (env: FloorEnv, conversation: string, request: Request) =>
  Response.json({ message: await env.LOG.get(env.LOG.idFromName(conversation)).append(await request.text()) }, { status: 201 });

export default {
  async fetch(request, env) {
    const [, route, id] = new URL(request.url).pathname.split("/");
    if (route === "append") return append(env, id, request);
    if (route === "limited-read-append") {
      await env.CALLER_LIMIT.limit({ key: "caller" });
      await env.APP_LIMIT.limit({ key: "app" });
    }
    if (route === "read-append" || route === "limited-read-append") {
      const user = await env.DB.prepare("SELECT conversation FROM users WHERE id = ?").bind(id).first<{ conversation: string }>();
      return user ? append(env, user.conversation, request) : new Response("no such user", { status: 404 });
    }
    return new Response("ok");
  },
} satisfies ExportedHandler<FloorEnv>;
