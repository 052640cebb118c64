import { subscriberAt, type ChannelKind, type RealtimeEvent } from "../subscription";

interface Row extends Record<string, SqlStorageValue> {
  client: string;
  channel: string;
  kind: ChannelKind;
}

/** The subscribers' table, for the Conversation's schema (schema.ts). */
export const SUBSCRIBERS_TABLE = `CREATE TABLE IF NOT EXISTS subscribers (
  client TEXT NOT NULL,
  channel TEXT NOT NULL,
  kind TEXT NOT NULL,
  PRIMARY KEY (client, channel)
)`;

/**
 * The realtime clients subscribed to one conversation's channels, kept in the Conversation
 * object's storage so that they outlive its eviction. Each client gets its events in the order
 * the conversation published them: sends to one client are chained, never concurrent.
 */
export class Subscribers {
  private rows: Row[];
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly sql: SqlStorage,
    private readonly env: Env,
  ) {
    this.rows = sql.exec<Row>("SELECT client, channel, kind FROM subscribers").toArray();
  }

  /** False, adding nothing, when the client would be one more than `maxClients`: every post fans out to each. */
  add(client: string, channel: string, kind: ChannelKind, maxClients: number): boolean {
    const clients = new Set(this.rows.map((row) => row.client));
    if (!clients.has(client) && clients.size >= maxClients) return false;
    this.sql.exec("INSERT OR IGNORE INTO subscribers (client, channel, kind) VALUES (?, ?, ?)", client, channel, kind);
    if (!this.rows.some((row) => row.client === client && row.channel === channel)) this.rows.push({ client, channel, kind });
    return true;
  }

  /** Drops one subscription of the client, or all of them. */
  remove(client: string, channel?: string): void {
    if (channel === undefined) this.sql.exec("DELETE FROM subscribers WHERE client = ?", client);
    else this.sql.exec("DELETE FROM subscribers WHERE client = ? AND channel = ?", client, channel);
    this.rows = this.rows.filter((row) => row.client !== client || (channel !== undefined && row.channel !== channel));
  }

  /** Each subscribed client's channels here. */
  byClient(): Map<string, string[]> {
    const clients = new Map<string, string[]>();
    for (const row of this.rows) clients.set(row.client, [...(clients.get(row.client) ?? []), row.channel]);
    return clients;
  }

  /** The channels' user is deleted: the client drops them (and ends if it has no others). */
  async revoke(client: string, channels: string[]): Promise<void> {
    try {
      await subscriberAt(this.env, client).revoke(channels);
    } catch (error) {
      // Its subscriptions are gone from here: it hears nothing more of this conversation anyway.
      console.error(`realtime: revoking ${client} failed`, error);
    }
  }

  /**
   * Sends the payloads to every client subscribed to a channel of this kind, each client's share
   * after whatever was published to it before. Resolves once all are handed over.
   */
  publish(kind: ChannelKind, payloads: unknown[]): Promise<void> {
    const byClient = new Map<string, RealtimeEvent[]>();
    for (const row of this.rows) {
      if (row.kind !== kind) continue;
      const events = byClient.get(row.client) ?? [];
      events.push(...payloads.map((data) => ({ channel: row.channel, data })));
      byClient.set(row.client, events);
    }
    const sends = [...byClient].map(([client, events]) => {
      const sent = (this.chains.get(client) ?? Promise.resolve()).then(() => this.send(client, events));
      this.chains.set(client, sent);
      void sent.finally(() => {
        if (this.chains.get(client) === sent) this.chains.delete(client);
      });
      return sent;
    });
    return Promise.all(sends).then(() => undefined);
  }

  private async send(client: string, events: RealtimeEvent[]): Promise<void> {
    try {
      // A client whose socket or session is gone says so: it will not be sent to again.
      if (!(await subscriberAt(this.env, client).deliver(events))) this.remove(client);
    } catch (error) {
      // Unreachable for now: these events are lost to it, and a client refetches on reconnect.
      console.error(`realtime: delivery to ${client} failed`, error);
    }
  }
}
