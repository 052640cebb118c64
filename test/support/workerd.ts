// Node-only: a look inside the `wrangler dev` that dev-server.ts started: its processes' memory
// (/proc), its worker's heap (the inspector) and its local state files (read-only copies).
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { sleep } from "./pace.ts";

/** Resident memory (bytes) of every workerd process in the group, from /proc. */
export function workerdRss(groupPid: number): { pids: number[]; bytes: number; byPid: Map<number, number> } {
  const pids: number[] = [];
  const byPid = new Map<number, number>();
  let bytes = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      // After the command: state, ppid, pgrp.
      const pgrp = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
      if (pgrp !== groupPid || !comm.startsWith("workerd")) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${entry}/status`, "utf8"));
      if (!rss) continue;
      pids.push(Number(entry));
      byPid.set(Number(entry), Number(rss[1]) * 1024);
      bytes += Number(rss[1]) * 1024;
    } catch {
      // The process exited while we looked.
    }
  }
  return { pids, bytes, byPid };
}

/** The workerd that runs the worker (it has the inspector), as opposed to wrangler's proxy in front of it. */
export function isWorkerRuntime(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("--inspector-addr");
  } catch {
    return false;
  }
}

/**
 * The worker isolate's JavaScript heap, read through wrangler's inspector proxy (the port
 * startDevServer passed as --inspector-port). The worker and its Durable Objects share this
 * isolate, so it is the memory Parley's code holds, apart from the runtime's own.
 */
export async function openInspector(groupPid: number): Promise<{ liveHeap: () => Promise<number | null>; close: () => void }> {
  const args = readFileSync(`/proc/${groupPid}/cmdline`, "utf8").split("\0");
  const port = args[args.indexOf("--inspector-port") + 1];
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as { webSocketDebuggerUrl: string }[];
  // The proxy only lets devtools origins in; undici's WebSocket takes extra headers.
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl, { headers: { origin: "http://127.0.0.1" } } as never);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`inspector on port ${port} refused the connection`));
  });
  let lastId = 0;
  const waiting = new Map<number, (message: any) => void>();
  // Events (the snapshot's chunks among them) carry no id and are dropped.
  ws.onmessage = (event) => {
    const message = JSON.parse(String(event.data));
    waiting.get(message.id)?.(message);
    waiting.delete(message.id);
  };
  const call = async (method: string, params: object, timeoutMs: number): Promise<any> => {
    if (ws.readyState !== WebSocket.OPEN) return null;
    const id = ++lastId;
    const answer = await Promise.race([
      new Promise<any>((resolve) => {
        waiting.set(id, resolve);
        ws.send(JSON.stringify({ id, method, params }));
      }),
      sleep(timeoutMs).then(() => null),
    ]);
    waiting.delete(id);
    return answer;
  };
  /**
   * The memory that survives a full collection: JS heap, embedder objects and ArrayBuffer
   * backing stores (bodies, byte arrays), which live outside the JS heap. workerd's inspector does
   * not answer HeapProfiler.collectGarbage, but a heap snapshot collects everything first.
   */
  const liveHeap = async (): Promise<number | null> => {
    if (!(await call("HeapProfiler.takeHeapSnapshot", { reportProgress: false }, 30_000))) return null;
    const usage = (await call("Runtime.getHeapUsage", {}, 5_000))?.result;
    return usage ? usage.usedSize + (usage.embedderHeapUsedSize ?? 0) + (usage.backingStorageSize ?? 0) : null;
  };
  return { liveHeap, close: () => ws.close() };
}

function sqliteFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(".sqlite")) found.push(join(entry.parentPath, entry.name));
  }
  return found;
}

/**
 * Reads SQLite databases of the local state without touching them: each file is copied with
 * its WAL first, so that opening it (which replays and checkpoints the WAL) happens on the copy.
 */
export function readStateDatabases<T>(dir: string, read: (db: DatabaseSync, file: string) => T): T[] {
  const scratch = mkdtempSync(join(tmpdir(), "parley-faults-sqlite-"));
  try {
    return sqliteFiles(dir).map((file, i) => {
      const copy = join(scratch, `${i}.sqlite`);
      copyFileSync(file, copy);
      for (const suffix of ["-wal", "-shm"]) if (existsSync(file + suffix)) copyFileSync(file + suffix, copy + suffix);
      const db = new DatabaseSync(copy);
      try {
        return read(db, file);
      } finally {
        db.close();
      }
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const hasTable = (db: DatabaseSync, name: string) =>
  db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;

/** The jobs of one channel that the Conversation objects' outboxes hold on disk. */
export function readOutboxJobs<Job extends { messageId: string }>(persistTo: string, channel: string): Job[] {
  return readStateDatabases(join(persistTo, "v3", "do"), (db) =>
    hasTable(db, "outbox") ? db.prepare("SELECT job FROM outbox WHERE channel = ?").all(channel).map((row) => JSON.parse(String(row.job)) as Job) : [],
  ).flat();
}

/**
 * What the Conversation objects hold on disk: stored message ids, the outbox's pending webhook
 * jobs, and the messages whose conversation-index job the outbox still holds.
 */
export function readConversations(persistTo: string): { messageIds: Set<string>; outboxByMessage: Map<string, string[]>; indexOutbox: Set<string> } {
  const messageIds = new Set<string>();
  const outboxByMessage = new Map<string, string[]>();
  const doDir = join(persistTo, "v3", "do");
  readStateDatabases(doDir, (db) => {
    if (hasTable(db, "messages")) {
      for (const row of db.prepare("SELECT id FROM messages").all()) messageIds.add(String(row.id));
    }
    if (hasTable(db, "outbox")) {
      for (const row of db.prepare("SELECT job FROM outbox WHERE channel = 'webhook'").all()) {
        const job = JSON.parse(String(row.job));
        outboxByMessage.set(job.messageId, [...(outboxByMessage.get(job.messageId) ?? []), job.deliveryId]);
      }
    }
  });
  const indexOutbox = new Set(readOutboxJobs(persistTo, "index").map((job) => job.messageId));
  return { messageIds, outboxByMessage, indexOutbox };
}

/** The ids of the messages in the conversation index (D1's conversation_messages), read from the local state. */
export function readIndexedMessages(persistTo: string): Set<string> {
  const ids = new Set<string>();
  readStateDatabases(join(persistTo, "v3", "d1"), (db) => {
    if (!hasTable(db, "conversation_messages")) return;
    for (const row of db.prepare("SELECT message_id FROM conversation_messages").all()) ids.add(String(row.message_id));
  });
  return ids;
}

export interface DeliveryRow {
  id: string;
  message_id: string;
  attempts: number;
  outcome: string;
  last_error: string | null;
}

/** The D1 delivery log (webhook_deliveries), read from the local state. */
export function readDeliveryLog(persistTo: string): DeliveryRow[] {
  const rows: DeliveryRow[] = [];
  readStateDatabases(join(persistTo, "v3", "d1"), (db) => {
    if (!hasTable(db, "webhook_deliveries")) return;
    for (const row of db.prepare("SELECT id, message_id, attempts, outcome, last_error FROM webhook_deliveries").all()) {
      rows.push(row as unknown as DeliveryRow);
    }
  });
  return rows;
}
