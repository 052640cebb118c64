import { whileAppExists } from "./constraints";

/** A person who answers an app's users from the Desk (or any tool on the conversation API). */
export interface Agent {
  id: string;
  appId: string;
  /** Lower-cased: an address names one agent per app whatever its case. */
  email: string;
  name: string;
  createdAt: number;
}

interface AgentRow {
  id: string;
  app_id: string;
  email: string;
  name: string;
  created_at: number;
}

const toAgent = (row: AgentRow): Agent => ({
  id: row.id,
  appId: row.app_id,
  email: row.email,
  name: row.name,
  createdAt: row.created_at,
});

const COLUMNS = "id, app_id, email, name, created_at";

/** Inserts the agent unless the app has one with that email or already has `max`: false then. One statement, so no race. */
export async function insertAgent(db: D1Database, agent: Agent, max: number): Promise<"inserted" | "duplicate" | "full"> {
  const result = await whileAppExists(
    db
      .prepare(
        `INSERT INTO agents (id, app_id, email, name, created_at)
         SELECT ?1, ?2, ?3, ?4, ?5 WHERE (SELECT COUNT(*) FROM agents WHERE app_id = ?2) < ?6
         ON CONFLICT (app_id, email) DO NOTHING`,
      )
      .bind(agent.id, agent.appId, agent.email, agent.name, agent.createdAt, max)
      .run(),
  );
  if (result.meta.changes > 0) return "inserted";
  return (await findAgentByEmail(db, agent.appId, agent.email)) ? "duplicate" : "full";
}

export async function listAgents(db: D1Database, appId: string): Promise<Agent[]> {
  const { results } = await db.prepare(`SELECT ${COLUMNS} FROM agents WHERE app_id = ? ORDER BY created_at, id`).bind(appId).all<AgentRow>();
  return results.map(toAgent);
}

export async function findAgentByEmail(db: D1Database, appId: string, email: string): Promise<Agent | null> {
  const row = await db.prepare(`SELECT ${COLUMNS} FROM agents WHERE app_id = ? AND email = ?`).bind(appId, email).first<AgentRow>();
  return row && toAgent(row);
}

/** Every agent row of an address, one per app it answers for (agents_by_email). */
export async function agentsWithEmail(db: D1Database, email: string): Promise<Agent[]> {
  const { results } = await db.prepare(`SELECT ${COLUMNS} FROM agents WHERE email = ? ORDER BY app_id`).bind(email).all<AgentRow>();
  return results.map(toAgent);
}

/** Deletes the agent; returns the address it had, or null when the app has no such agent. */
export async function deleteAgent(db: D1Database, appId: string, id: string): Promise<string | null> {
  const row = await db.prepare("DELETE FROM agents WHERE app_id = ? AND id = ? RETURNING email").bind(appId, id).first<{ email: string }>();
  return row?.email ?? null;
}
