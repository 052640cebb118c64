import { z } from "zod";
import type { Agent } from "../db/agents";

export const agentSchema = z
  .object({ _id: z.string(), email: z.string(), name: z.string() })
  .meta({ id: "Agent", description: "A person who answers the app's users; their messages are appMaker messages with this name and email." });

export const presentAgent = (agent: Agent): z.output<typeof agentSchema> => ({ _id: agent.id, email: agent.email, name: agent.name });
