// The benchmark's floor: the naive design Parley's post must compete with, measured in the same
// run on the same machine. F1, a bare Durable Object append (one SQLite insert, the stored message
// back). Every other post answers as the contract's post does, with the message and its
// conversation's newest messages (up to 100): F2, the append behind one D1 read by primary key.
// The posts Parley's are judged against feed the conversation index durably, as every message
// Parley stores does: the index job written to the object's outbox in the append's transaction,
// the alarm armed as the safety net when none is pending, the job sent to a queue right after the
// answer's append and its outbox row deleted; a consumer that writes each queue batch in one D1
// batch, per job an upsert of the conversation's row (its newest activity and message) and the
// message's row with its full-text (FTS5) row. F2s, F2 with that feed behind the one rate-limit
// check a server credential's request must pass; F3, the same behind the two an app-token request
// must pass (the caller's budget, then its app's); F3c, F3 to one busy conversation. No auth, no
// validation. The naive webhook (F4): F2 behind the two checks, sending the message to a queue
// right after its insert (no outbox, no alarm, no index feed), and a consumer that POSTs each to
// the webhook target. The durable webhook (F4d): F3 with a second job, the webhook's, through the
// same outbox to a queue of its own (as scenario 7's posts write both), and what a webhook must
// cost with the guarantees Parley keeps (no webhook lost once its message is stored, none sent
// twice once delivered, each signed): a consumer that reads the batch's delivered ids in one D1
// read, POSTs each signed, and records the delivered ones in one D1 batch. The naive read (F5):
// the two rate limits, the D1 read of the user, and the newest 100 messages of its conversation
// as JSON. The naive init (F6): the two rate limits, a D1 read (the app), and one D1 batch
// writing the new device and its user. The naive conversation list (F7) and message search (F8),
// over a plain copy of Parley's conversation index (its entries and its messages, as the benchmark
// read them from it; tables of their own, apart from the feed's): the one rate-limit check an app
// JWT passes, then one D1 query, its answer spliced from the stored JSON. F7 reads the 25 (and
// one) newest entries by an index on (app_id, last_activity); F8 the newest messages matching the
// words in a full-text (FTS5) table of the messages' text with the app as a token of its own, as
// Parley's search does.
import { DurableObject } from "cloudflare:workers";

interface FloorEnv {
  DB: D1Database;
  CALLER_LIMIT: RateLimit;
  APP_LIMIT: RateLimit;
  LOG: DurableObjectNamespace<Log>;
  HOOKS: Queue<string>;
  DURABLE_HOOKS: Queue<string>;
  INDEX_FEED: Queue<string>;
  /** Where the consumer POSTs each message (the benchmark's webhook probe). */
  HOOK_TARGET: string;
}

/** The durable jobs' safety net fires this long after the append that armed it. */
const SAFETY_NET_MS = 30_000;

/** The app every floor conversation belongs to, as the index's rows name it. */
const FLOOR_APP = "floor-app";

/** A durable job's queue, as its outbox row names it. */
type Feed = "hooks" | "index";

const feedQueue = (env: FloorEnv, feed: Feed) => (feed === "hooks" ? env.DURABLE_HOOKS : env.INDEX_FEED);

/** Each feed's job for a stored message of `conversation`. */
const jobOf: Record<Feed, (message: string, conversation: string) => string> = {
  hooks: (message) => `{"deliveryId":"${crypto.randomUUID()}","messages":[${message}]}`,
  index: (message, conversation) => `{"appId":"${FLOOR_APP}","conversation":${JSON.stringify(conversation)},"message":${message}}`,
};

/** A stored message's JSON: its fields, then its `received` in seconds. */
const withReceived = (fields: string, receivedMs: number) => `${fields},"received":${receivedMs / 1000}}`;

interface Posted {
  /** The message, as JSON. */
  message: string;
  /** The conversation's newest 100 messages, oldest first, as a JSON array. */
  messagesJson: string;
}

export class Log extends DurableObject<FloorEnv> {
  private lastMs = 0;
  /** Whether this instance knows of an alarm pending. */
  private armed = false;

  constructor(ctx: DurableObjectState, env: FloorEnv) {
    super(ctx, env);
    // `fed`: the message's index job was written (the bench waits until the index holds every such message).
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS messages (received_ms INTEGER PRIMARY KEY, id TEXT NOT NULL, body TEXT NOT NULL, fed INTEGER NOT NULL DEFAULT 0)");
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, feed TEXT NOT NULL, job TEXT NOT NULL)");
  }

  /**
   * Stores the posted message with the fields every message of the contract carries, so that
   * the floor's answers weigh what Parley's do; returns it as JSON.
   */
  append(body: string, fed = false): string {
    const receivedMs = Math.max(Date.now(), this.lastMs + 1);
    this.lastMs = receivedMs;
    const id = crypto.randomUUID().replaceAll("-", "").slice(0, 24);
    const { text, role } = JSON.parse(body) as { text: string; role: string };
    const fields = `{"_id":"${id}","type":"text","text":${JSON.stringify(text)},"role":${JSON.stringify(role)},"authorId":"${this.ctx.id.toString().slice(0, 24)}","actions":[],"source":{"type":"api"}`;
    this.ctx.storage.sql.exec("INSERT INTO messages (received_ms, id, body, fed) VALUES (?, ?, ?, ?)", receivedMs, id, fields, Number(fed));
    return withReceived(fields, receivedMs);
  }

  /** The newest 100 messages, oldest first, as JSON text. */
  newest(): string {
    const rows = this.ctx.storage.sql
      .exec<{ received_ms: number; body: string }>("SELECT received_ms, body FROM messages ORDER BY received_ms DESC LIMIT 100")
      .toArray()
      .reverse();
    return `[${rows.map((row) => withReceived(row.body, row.received_ms)).join(",")}]`;
  }

  /** The append, then the newest 100 messages. */
  appendAndPage(body: string): Posted {
    const message = this.append(body);
    return { message, messagesJson: this.newest() };
  }

  /**
   * The append and a job for each of `feeds` in one transaction, the safety net armed, the jobs
   * sent beside the answer. `conversation` is the object's name, which the index job carries.
   */
  async appendDurably(body: string, conversation: string, feeds: Feed[]): Promise<Posted> {
    const message = this.ctx.storage.transactionSync(() => {
      const stored = this.append(body, feeds.includes("index"));
      for (const feed of feeds) this.ctx.storage.sql.exec("INSERT INTO outbox (feed, job) VALUES (?, ?)", feed, jobOf[feed](stored, conversation));
      return stored;
    });
    if (!this.armed) {
      await this.ctx.storage.setAlarm(Date.now() + SAFETY_NET_MS);
      this.armed = true;
    }
    this.ctx.waitUntil(this.sendOutbox());
    return { message, messagesJson: this.newest() };
  }

  async alarm(): Promise<void> {
    this.armed = false;
    await this.sendOutbox();
  }

  /** The outbox's oldest jobs, each feed's to its queue in one batch, then deleted. */
  private async sendOutbox(): Promise<void> {
    const rows = this.ctx.storage.sql.exec<{ seq: number; feed: Feed; job: string }>("SELECT seq, feed, job FROM outbox ORDER BY seq LIMIT 100").toArray();
    if (rows.length === 0) return;
    await Promise.all(
      (["hooks", "index"] as const).map((feed) => {
        const jobs = rows.filter((row) => row.feed === feed).map((row) => ({ body: row.job, contentType: "text" as const }));
        return jobs.length > 0 ? feedQueue(this.env, feed).sendBatch(jobs) : undefined;
      }),
    );
    this.ctx.storage.sql.exec("DELETE FROM outbox WHERE seq <= ?", rows[rows.length - 1].seq);
  }

  /** The append, then its message on the queue before the answer. */
  async appendAndSend(body: string): Promise<Posted> {
    const message = this.append(body);
    await this.env.HOOKS.send(`{"messages":[${message}]}`, { contentType: "text" });
    return { message, messagesJson: this.newest() };
  }
}

/** What a post does besides its append: nothing, the naive webhook (F4), the durable index feed, or that and the durable webhook (F4d). */
type Extra = "none" | "naiveHook" | "indexed" | "indexedHook";

/** The contract's answer to a post: the message, and its conversation's newest messages. */
const answer = ({ message, messagesJson }: Posted) =>
  new Response(`{"message":${message},"conversation":{"messages":${messagesJson}}}`, {
    status: 201,
    headers: { "content-type": "application/json" },
  });

const post = async (env: FloorEnv, conversation: string, request: Request, extra: Extra) => {
  const log = env.LOG.get(env.LOG.idFromName(conversation));
  const body = await request.text();
  if (extra === "naiveHook") return answer(await log.appendAndSend(body));
  if (extra === "none") return answer(await log.appendAndPage(body));
  return answer(await log.appendDurably(body, conversation, extra === "indexedHook" ? ["hooks", "index"] : ["index"]));
};

/** The posting routes after a user's D1 read, and what each does besides its append. */
const extraOf: Record<string, Extra> = {
  "read-append": "none",
  "server-read-append": "indexed",
  "limited-read-append": "indexed",
  "conversation-append": "indexed",
  "webhook-append": "naiveHook",
  "durable-webhook-append": "indexedHook",
};

/** The signing key, imported once per isolate. */
let signingKey: Promise<CryptoKey> | undefined;
const sign = async (body: string) => {
  signingKey ??= crypto.subtle.importKey("raw", new TextEncoder().encode("floor-secret"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", await signingKey, new TextEncoder().encode(body));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
};

/** The durable webhook's consumer: one D1 read, the signed POSTs, one D1 write of what was delivered. */
async function deliverDurably(batch: MessageBatch<string>, env: FloorEnv): Promise<void> {
  const ids = batch.messages.map((message) => (JSON.parse(message.body) as { deliveryId: string }).deliveryId);
  const { results } = await env.DB.prepare("SELECT id FROM delivered WHERE id IN (SELECT value FROM json_each(?))")
    .bind(JSON.stringify(ids))
    .all<{ id: string }>();
  const already = new Set(results.map((row) => row.id));
  const outcomes = await Promise.all(
    batch.messages.map(async (message, i) => {
      if (already.has(ids[i])) return true;
      const headers = { "content-type": "application/json", "x-signature": await sign(message.body), "x-delivery": ids[i] };
      const response = await fetch(env.HOOK_TARGET, { method: "POST", headers, body: message.body });
      await response.body?.cancel();
      return response.ok;
    }),
  );
  const delivered = ids.filter((id, i) => outcomes[i] && !already.has(id));
  if (delivered.length > 0) await env.DB.batch(delivered.map((id) => env.DB.prepare("INSERT OR IGNORE INTO delivered (id) VALUES (?)").bind(id)));
  batch.messages.forEach((message, i) => (outcomes[i] ? message.ack() : message.retry()));
}

/** An index job: a stored message of a conversation. */
interface IndexJob {
  appId: string;
  conversation: string;
  message: { _id: string; received: number };
}

/**
 * The naive index consumer: the batch's jobs in one D1 batch, each its conversation's row
 * (its newest activity and message) and its message's row (the FTS5 row with it, by trigger).
 */
async function indexBatch(batch: MessageBatch<string>, env: FloorEnv): Promise<void> {
  const statements = batch.messages.flatMap(({ body }) => {
    const { appId, conversation, message } = JSON.parse(body) as IndexJob;
    const json = JSON.stringify(message);
    return [
      env.DB.prepare(
        `INSERT INTO feed_conversations (id, app_id, last_activity, last_message) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET last_activity = excluded.last_activity, last_message = excluded.last_message
         WHERE excluded.last_activity > last_activity`,
      ).bind(conversation, appId, message.received, json),
      env.DB.prepare("INSERT INTO feed_messages (id, conversation, app_id, message) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING").bind(
        message._id,
        conversation,
        appId,
        json,
      ),
    ];
  });
  await env.DB.batch(statements);
}

/** A stored conversation entry and its messages, copied from Parley's index (POST /index-rows). */
interface IndexRows {
  conversations: { id: string; appId: string; lastActivity: number; appUser: string; entry: string }[];
  messages: { seq: number; conversation: string; text: string; message: string }[];
}

async function copyIndexRows(env: FloorEnv, rows: IndexRows): Promise<Response> {
  await env.DB.batch([
    env.DB.prepare(
      `INSERT OR REPLACE INTO conversations (id, app_id, last_activity, app_user, entry)
       SELECT value ->> 'id', value ->> 'appId', value ->> 'lastActivity', value ->> 'appUser', value ->> 'entry' FROM json_each(?)`,
    ).bind(JSON.stringify(rows.conversations)),
    env.DB.prepare(
      `INSERT INTO messages (seq, conversation, message) SELECT value ->> 'seq', value ->> 'conversation', value ->> 'message' FROM json_each(?)`,
    ).bind(JSON.stringify(rows.messages)),
    env.DB.prepare(
      `INSERT INTO search (rowid, app_id, body)
       SELECT value ->> 'seq', c.app_id, value ->> 'text' FROM json_each(?1) JOIN conversations c ON c.id = value ->> 'conversation'`,
    ).bind(JSON.stringify(rows.messages)),
  ]);
  return new Response(null, { status: 204 });
}

const PAGE = 25;
const page = (name: string, items: string[]) =>
  new Response(`{"${name}":[${items.slice(0, PAGE).join(",")}],"hasMore":${items.length > PAGE}}`, { headers: { "content-type": "application/json" } });

async function listConversations(env: FloorEnv, appId: string): Promise<Response> {
  const { results } = await env.DB.prepare("SELECT entry FROM conversations WHERE app_id = ? ORDER BY last_activity DESC LIMIT ?")
    .bind(appId, PAGE + 1)
    .all<{ entry: string }>();
  return page("conversations", results.map((row) => row.entry));
}

/** Every word quoted, the last one a prefix, within the app's messages. */
const matchOf = (appId: string, q: string) =>
  [`app_id : "${appId}"`, ...q.toLowerCase().split(/\s+/).filter(Boolean).map((word, i, all) => `body : "${word.replaceAll('"', '""')}"${i === all.length - 1 ? "*" : ""}`)].join(" AND ");

async function searchMessages(env: FloorEnv, appId: string, q: string): Promise<Response> {
  const { results } = await env.DB.prepare(
    `SELECT c.app_user, m.message FROM search s JOIN messages m ON m.seq = s.rowid JOIN conversations c ON c.id = m.conversation
     WHERE search MATCH ? ORDER BY s.rowid DESC LIMIT ?`,
  )
    .bind(matchOf(appId, q), PAGE + 1)
    .all<{ app_user: string; message: string }>();
  return page("results", results.map((row) => `{"appUser":${row.app_user},"message":${row.message}}`));
}

const limited = ["limited-read-append", "webhook-append", "durable-webhook-append", "read", "init", "conversation-append"];

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
    if (route === "index-rows") return copyIndexRows(env, await request.json<IndexRows>());
    if (route === "list" || route === "search") {
      // An app JWT's request passes one check (its key's budget), as F2s.
      await env.CALLER_LIMIT.limit({ key: "server" });
      return route === "list" ? listConversations(env, id) : searchMessages(env, id, new URL(request.url).searchParams.get("q") ?? "");
    }
    if (route === "append") {
      const message = await env.LOG.get(env.LOG.idFromName(id)).append(await request.text());
      return new Response(`{"message":${message}}`, { status: 201, headers: { "content-type": "application/json" } });
    }
    // A server credential's post passes one check (its key's budget), not two.
    if (route === "server-read-append") await env.CALLER_LIMIT.limit({ key: "server" });
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
    if (route in extraOf) {
      const user = await env.DB.prepare("SELECT conversation FROM users WHERE id = ?").bind(id).first<{ conversation: string }>();
      return user ? post(env, user.conversation, request, extraOf[route]) : new Response("no such user", { status: 404 });
    }
    return new Response("ok");
  },

  /** Each message POSTed to the target, and acknowledged once it answered 2xx (else retried). */
  async queue(batch, env) {
    if (batch.queue === "floor-durable-hooks") return deliverDurably(batch, env);
    if (batch.queue === "floor-index") return indexBatch(batch, env);
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
