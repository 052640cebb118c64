// Counts what Cloudflare bills, from the real code path: the worker's D1, R2 and Durable Object
// bindings wrapped to tally each call and each D1 result's meta, and a Conversation object's
// SQLite cursors (rowsRead, rowsWritten) and alarms tallied inside it.
import { runInDurableObject } from "cloudflare:test";
import type { Conversation } from "../../../src/conversation/object/conversation";
import type { DeliveryJob } from "../../../src/channels/webhooks/delivery";

export interface Tally {
  workerRequests: number;
  durableObjectRequests: number;
  durableObjectRowsRead: number;
  durableObjectRowsWritten: number;
  d1RowsRead: number;
  d1RowsWritten: number;
  queueOperations: number;
  r2ClassA: number;
  r2ClassB: number;
}

export const emptyTally = (): Tally => ({
  workerRequests: 0,
  durableObjectRequests: 0,
  durableObjectRowsRead: 0,
  durableObjectRowsWritten: 0,
  d1RowsRead: 0,
  d1RowsWritten: 0,
  queueOperations: 0,
  r2ClassA: 0,
  r2ClassB: 0,
});

type Meta = { rows_read?: number; rows_written?: number };

/** D1, with every statement's rows read and written added to the tally (first() is run as all() to see its meta). */
function countingD1(db: D1Database, tally: Tally): D1Database {
  const real = new WeakMap<object, D1PreparedStatement>();
  const add = (meta: Meta) => {
    tally.d1RowsRead += meta.rows_read ?? 0;
    tally.d1RowsWritten += meta.rows_written ?? 0;
  };
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const wrapped = {
      bind: (...values: unknown[]) => wrap(statement.bind(...values)),
      run: async () => {
        const result = await statement.run();
        add(result.meta);
        return result;
      },
      all: async () => {
        const result = await statement.all();
        add(result.meta);
        return result;
      },
      first: async (column?: string) => {
        const { results, meta } = await statement.all<Record<string, unknown>>();
        add(meta);
        const row = results[0] ?? null;
        return column === undefined ? row : (row?.[column] ?? null);
      },
      raw: () => {
        throw new Error("raw() is not counted");
      },
    } as unknown as D1PreparedStatement;
    real.set(wrapped, statement);
    return wrapped;
  };
  return {
    prepare: (sql: string) => wrap(db.prepare(sql)),
    batch: async (statements: D1PreparedStatement[]) => {
      const results = await db.batch(statements.map((s) => real.get(s) ?? s));
      for (const result of results) add(result.meta);
      return results;
    },
    exec: () => {
      throw new Error("exec() is not counted");
    },
  } as unknown as D1Database;
}

/** R2: writes and lists are class A, reads and heads class B (deletes are free). */
function countingR2(bucket: R2Bucket, tally: Tally): R2Bucket {
  const classOf: Record<string, keyof Tally | null> = { put: "r2ClassA", list: "r2ClassA", get: "r2ClassB", head: "r2ClassB", delete: null };
  return new Proxy(bucket, {
    get(target, key) {
      const value = Reflect.get(target, key);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const counted = classOf[String(key)];
        if (counted) tally[counted]++;
        return value.apply(target, args);
      };
    },
  });
}

/** Durable Object namespaces: every call on a stub is one billed request (an RPC session). */
function countingNamespace(namespace: DurableObjectNamespace, tally: Tally): DurableObjectNamespace {
  return new Proxy(namespace, {
    get(target, key) {
      const value = Reflect.get(target, key);
      if (key !== "get") return typeof value === "function" ? value.bind(target) : value;
      return (...args: Parameters<DurableObjectNamespace["get"]>) =>
        new Proxy(target.get(...args), {
          get(stub, method) {
            const member = Reflect.get(stub, method);
            if (typeof member !== "function") return member;
            return (...callArgs: unknown[]) => {
              tally.durableObjectRequests++;
              // An RPC method is a stub itself: call it, never look up `.apply` on it.
              return Reflect.apply(member, stub, callArgs);
            };
          },
        });
    },
  });
}

/** The worker's env with its D1, R2, Conversation and Desk room bindings counted into `tally`. */
export function countingEnv(env: Env, tally: Tally): Env {
  return {
    ...env,
    DB: countingD1(env.DB, tally),
    MEDIA: countingR2(env.MEDIA, tally),
    CONVERSATIONS: countingNamespace(env.CONVERSATIONS as unknown as DurableObjectNamespace, tally) as unknown as Env["CONVERSATIONS"],
    DESK_ROOMS: countingNamespace(env.DESK_ROOMS as unknown as DurableObjectNamespace, tally) as unknown as Env["DESK_ROOMS"],
  };
}

/**
 * Inside one Conversation object: every SQLite cursor's rows, every setAlarm (billed as a row
 * written) and every alarm run (a request) into `tally`; the outbox's queue replaced by one that
 * keeps the jobs, counting each as the queue's write.
 */
export async function countInside(stub: DurableObjectStub<Conversation>, tally: Tally, sent: DeliveryJob[]): Promise<void> {
  await runInDurableObject(stub, (instance, state) => {
    const sql = state.storage.sql;
    const exec = sql.exec.bind(sql);
    const cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];
    let alarmsSet = 0;
    sql.exec = ((query: string, ...bindings: unknown[]) => {
      const cursor = exec(query, ...bindings);
      cursors.push(cursor);
      return cursor;
    }) as typeof sql.exec;
    // Read once the cursors are done: a cursor's counts grow as it is consumed.
    Object.defineProperty(tally, "durableObjectRowsRead", { get: () => cursors.reduce((n, c) => n + c.rowsRead, 0), enumerable: true });
    Object.defineProperty(tally, "durableObjectRowsWritten", {
      get: () => cursors.reduce((n, c) => n + c.rowsWritten, 0) + alarmsSet,
      enumerable: true,
    });
    const setAlarm = state.storage.setAlarm.bind(state.storage);
    state.storage.setAlarm = (...args: Parameters<DurableObjectStorage["setAlarm"]>) => {
      alarmsSet++;
      return setAlarm(...args);
    };
    const alarm = instance.alarm.bind(instance);
    instance.alarm = async () => {
      tally.durableObjectRequests++;
      return alarm();
    };
    const queue = {
      sendBatch: async (messages: Iterable<MessageSendRequest<DeliveryJob>>) => {
        for (const { body } of messages) {
          tally.queueOperations++;
          sent.push(body);
        }
      },
    };
    (instance as unknown as { outbox: { queueOf: () => typeof queue } }).outbox.queueOf = () => queue;
  });
}
