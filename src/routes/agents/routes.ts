import { Hono } from "hono";
import { z } from "zod";
import { appAgents, createAgent, removeAgent } from "../../agents/agents";
import { agentSchema, presentAgent } from "../../agents/presenter";
import { accountAccess } from "../../http/access";
import type { AppEnv } from "../../http/context";
import { describe } from "../../http/openapi";
import { jsonBody } from "../../http/validate";
import { createAgentBody } from "./schemas";

/** An app's agents (the people who answer from the Desk): account-scope JWTs only. */
export const agentsRoutes = new Hono<AppEnv>();

const tags = ["Agents"];

agentsRoutes.post(
  "/apps/:appId/agents",
  describe({
    summary: "Add an agent",
    description: "`name` defaults to the address's local part. 409 when the app already has an agent with this email (case ignored).",
    tags,
    example: { email: "ana@example.com", name: "Ana" },
    responses: { 201: { description: "The new agent.", schema: z.object({ agent: agentSchema }) } },
  }),
  ...accountAccess,
  jsonBody(createAgentBody),
  async (c) => c.json({ agent: presentAgent(await createAgent(c.env, c.req.param("appId"), c.req.valid("json"))) }, 201),
);

agentsRoutes.get(
  "/apps/:appId/agents",
  describe({ summary: "List an app's agents", tags, responses: { 200: { description: "The agents, oldest first.", schema: z.object({ agents: z.array(agentSchema) }) } } }),
  ...accountAccess,
  async (c) => c.json({ agents: (await appAgents(c.env, c.req.param("appId"))).map(presentAgent) }),
);

agentsRoutes.delete(
  "/apps/:appId/agents/:agentId",
  describe({ summary: "Remove an agent", description: "Conversations assigned to them keep the assignment until changed.", tags, responses: { 200: { description: "Done." } } }),
  ...accountAccess,
  async (c) => {
    await removeAgent(c.env, c.req.param("appId"), c.req.param("agentId"));
    return c.json({});
  },
);
