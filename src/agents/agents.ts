import { requireApp } from "../apps/apps";
import { announceAgentRemoved } from "../desk-live/announce";
import { agentsWithEmail, deleteAgent, findAgentByEmail, insertAgent, listAgents, type Agent } from "../db/agents";
import { badRequest, conflict, notFound } from "../errors";
import { newId } from "../lib/ids";

export const MAX_AGENTS_PER_APP = 200;

/** The same address whatever case it is written in. */
export const normalEmail = (email: string) => email.trim().toLowerCase();

/** Adds an agent to the app; its name defaults to the address's local part. */
export async function createAgent(env: Env, appId: string, input: { email: string; name?: string }): Promise<Agent> {
  await requireApp(env, appId);
  const email = normalEmail(input.email);
  const agent = { id: newId(), appId, email, name: input.name ?? email.split("@")[0], createdAt: Date.now() };
  const outcome = await insertAgent(env.DB, agent, MAX_AGENTS_PER_APP);
  if (outcome === "duplicate") throw conflict(`email: app '${appId}' already has an agent '${email}'`);
  if (outcome === "full") throw badRequest(`agents: an app has at most ${MAX_AGENTS_PER_APP} agents`);
  return agent;
}

export async function appAgents(env: Env, appId: string): Promise<Agent[]> {
  await requireApp(env, appId);
  return listAgents(env.DB, appId);
}

/** Removes the agent; the Desks they have open on the app are closed. */
export async function removeAgent(env: Env, appId: string, agentId: string): Promise<void> {
  const email = await deleteAgent(env.DB, appId, agentId);
  if (email === null) throw notFound(`agentId: no agent '${agentId}' in app '${appId}'`);
  await announceAgentRemoved(env, appId, email);
}

/** The app's agent with this address, or null. */
export const agentOf = (env: Env, appId: string, email: string) => findAgentByEmail(env.DB, appId, normalEmail(email));

/** The agent rows of an address: the apps it answers for. */
export const agentshipsOf = (env: Env, email: string) => agentsWithEmail(env.DB, normalEmail(email));
