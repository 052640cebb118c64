import { Hono } from "hono";
import type { AppEnv } from "../../context";
import { deleteWhisper, findWhisper, insertWhisper, listWhispers, type Whisper } from "../../db/whispers";
import { notFound } from "../../errors";
import { newId } from "../../lib/ids";
import { jsonBody } from "../../lib/validate";
import { serverAccess } from "../chains";
import { createWhisperBody } from "./schemas";

/** Whisper rules: an appMaker message posted when an app user tracks the rule's event. */
export const whispersRoutes = new Hono<AppEnv>();

const presentWhisper = (w: Whisper) => ({
  _id: w.id,
  event: w.event,
  text: w.text,
  ...(w.name !== null && { name: w.name }),
  ...(w.avatarUrl !== null && { avatarUrl: w.avatarUrl }),
});

whispersRoutes.post("/whispers", ...serverAccess, jsonBody(createWhisperBody), async (c) => {
  const body = c.req.valid("json");
  const whisper: Whisper = {
    id: newId(),
    appId: c.get("appId"),
    event: body.event,
    text: body.text,
    name: body.name ?? null,
    avatarUrl: body.avatarUrl ?? null,
    createdAt: Date.now(),
  };
  await insertWhisper(c.env.DB, whisper);
  return c.json({ whisper: presentWhisper(whisper) }, 201);
});

whispersRoutes.get("/whispers", ...serverAccess, async (c) =>
  c.json({ whispers: (await listWhispers(c.env.DB, c.get("appId"))).map(presentWhisper) }),
);

whispersRoutes.get("/whispers/:whisperId", ...serverAccess, async (c) => {
  const whisper = await findWhisper(c.env.DB, c.get("appId"), c.req.param("whisperId"));
  if (!whisper) throw notFound(`whisperId: no whisper '${c.req.param("whisperId")}'`);
  return c.json({ whisper: presentWhisper(whisper) });
});

whispersRoutes.delete("/whispers/:whisperId", ...serverAccess, async (c) => {
  if (!(await deleteWhisper(c.env.DB, c.get("appId"), c.req.param("whisperId")))) {
    throw notFound(`whisperId: no whisper '${c.req.param("whisperId")}'`);
  }
  return c.json({});
});
