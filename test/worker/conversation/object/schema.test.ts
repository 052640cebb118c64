// The Conversation object's tables (src/conversation/object/schema.ts): created or migrated only when
// the stored schema version is older than the code's, keeping what an object from before holds.
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SCHEMA_VERSION } from "../../../../src/conversation/object/schema";
import { call, conversationOf, createApp, freshUser, hexId, holdOutboxAlarms } from "../../support/helpers";

afterEach(() => {
  vi.restoreAllMocks();
});

async function conversationWithMessage() {
  const app = await createApp("schema");
  const user = await freshUser(app);
  const response = await call("POST", `/v1/appusers/${user.id}/messages`, app.token, { body: { role: "appUser", text: "hello" } });
  expect(response.status).toBe(201);
  return conversationOf(user.id);
}

describe("the Conversation object's schema", () => {
  it("runs no schema statement when a woken object's tables are current", async () => {
    const stub = await conversationWithMessage();
    const statements: string[] = [];
    await runInDurableObject(stub, (_instance, state) => {
      const prototype = Object.getPrototypeOf(state.storage.sql) as SqlStorage;
      const exec = prototype.exec;
      vi.spyOn(prototype, "exec").mockImplementation(function (this: SqlStorage, query: string, ...bindings: unknown[]) {
        statements.push(query);
        return exec.call(this, query, ...(bindings as SqlStorageValue[]));
      } as SqlStorage["exec"]);
    });
    await evictDurableObject(stub);
    expect((await stub.newest()).messagesJson).toContain("hello");
    expect(statements.length).toBeGreaterThan(0);
    expect(statements.filter((query) => /^\s*(CREATE|ALTER|DROP)\b/i.test(query))).toEqual([]);
  });

  it("brings an object stored before schema versions onto the one outbox, its pending jobs kept in order and then sent", async () => {
    const hold = holdOutboxAlarms();
    const stub = await conversationWithMessage();
    const webhookJobs = [hexId(), hexId()].map((messageId) => ({ conversation: "c", deliveryId: hexId(), webhookId: hexId(), messageId, trigger: "message:appUser", body: "{}" }));
    const pushJob = { kind: "message", appId: hexId(), appUserId: hexId(), conversationId: hexId(), messageId: hexId(), text: "hi", mediaType: null, authorName: null };
    // The storage as code before versions left it: two outboxes, no version.
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE outbox");
      sql.exec("CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT NOT NULL)");
      sql.exec("CREATE TABLE push_outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT NOT NULL)");
      for (const job of webhookJobs) sql.exec("INSERT INTO outbox (job) VALUES (?)", JSON.stringify(job));
      sql.exec("INSERT INTO push_outbox (job) VALUES (?)", JSON.stringify(pushJob));
      state.storage.kv.delete("schemaVersion");
    });
    await evictDurableObject(stub);

    const migrated = await runInDurableObject(stub, (_instance, state) => ({
      rows: state.storage.sql.exec<{ channel: string; job: string }>("SELECT channel, job FROM outbox ORDER BY seq").toArray(),
      pushOutbox: state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'push_outbox'").toArray(),
      version: state.storage.kv.get("schemaVersion"),
      messages: state.storage.sql.exec("SELECT id FROM messages").toArray().length,
    }));
    expect(migrated.rows.map((row) => ({ channel: row.channel, job: JSON.parse(row.job) }))).toEqual([
      ...webhookJobs.map((job) => ({ channel: "webhook", job })),
      { channel: "push", job: pushJob },
    ]);
    expect(migrated.pushOutbox).toEqual([]);
    expect(migrated.version).toBe(SCHEMA_VERSION);
    expect(migrated.messages).toBe(1);

    hold.mockRestore();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const left = await runInDurableObject(stub, (_instance, state) => state.storage.sql.exec("SELECT 1 FROM outbox").toArray().length);
    expect(left).toBe(0);
  });
});
