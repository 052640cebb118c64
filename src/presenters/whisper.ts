import { z } from "zod";
import type { Whisper } from "../db/whispers";
import { withoutNulls } from "./without-nulls";

export const whisperSchema = z
  .object({ _id: z.string(), event: z.string(), text: z.string(), name: z.string().optional(), avatarUrl: z.string().optional() })
  .meta({ id: "Whisper", description: "A rule: post `text` as the app maker when an app user tracks `event`." });

export const presentWhisper = (w: Whisper): z.output<typeof whisperSchema> =>
  withoutNulls({ _id: w.id, event: w.event, text: w.text, name: w.name, avatarUrl: w.avatarUrl });
