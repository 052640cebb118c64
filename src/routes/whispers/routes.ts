import { Hono } from "hono";
import { z } from "zod";
import { serverAccess } from "../../http/access";
import type { AppEnv } from "../../http/context";
import { describe } from "../../http/openapi";
import { jsonBody } from "../../http/validate";
import { presentWhisper, whisperSchema } from "../../presenters/whisper";
import { appWhispers, createWhisper, getWhisper, removeWhisper } from "../../whispers/rules";
import { createWhisperBody } from "./schemas";

/** Whisper rules: an appMaker message posted when an app user tracks the rule's event. */
export const whispersRoutes = new Hono<AppEnv>();

const tags = ["Whispers"];
const oneWhisper = z.object({ whisper: whisperSchema });

whispersRoutes.post(
  "/whispers",
  describe({ summary: "Create a whisper", tags, example: { event: "completed_sale", text: "Thanks for your order! Any questions?" }, responses: { 201: { description: "The new whisper.", schema: oneWhisper } } }),
  ...serverAccess,
  jsonBody(createWhisperBody),
  async (c) => c.json({ whisper: presentWhisper(await createWhisper(c.env, c.get("appId"), c.req.valid("json"))) }, 201),
);

whispersRoutes.get(
  "/whispers",
  describe({ summary: "List whispers", tags, responses: { 200: { description: "The app's whispers.", schema: z.object({ whispers: z.array(whisperSchema) }) } } }),
  ...serverAccess,
  async (c) => c.json({ whispers: (await appWhispers(c.env, c.get("appId"))).map(presentWhisper) }),
);

whispersRoutes.get(
  "/whispers/:whisperId",
  describe({ summary: "Get a whisper", tags, responses: { 200: { description: "The whisper.", schema: oneWhisper } } }),
  ...serverAccess,
  async (c) => c.json({ whisper: presentWhisper(await getWhisper(c.env, c.get("appId"), c.req.param("whisperId"))) }),
);

whispersRoutes.delete(
  "/whispers/:whisperId",
  describe({ summary: "Delete a whisper", tags, responses: { 200: { description: "Done." } } }),
  ...serverAccess,
  async (c) => {
    await removeWhisper(c.env, c.get("appId"), c.req.param("whisperId"));
    return c.json({});
  },
);
