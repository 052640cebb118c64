import { z } from "zod";
import type { ActionInput } from "../../conversation/actions";
import type { ActionType } from "../../enums";
import { nonEmptyString } from "../../lib/schemas";

/** Enough for quick replies and a row of buttons; the clients render far fewer. */
export const MAX_ACTIONS = 20;
export const PAYLOAD_MAX = 4096;

const text = nonEmptyString(256);
const uri = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).max(2048);
export const payload = z.string().min(1, "must not be empty").max(PAYLOAD_MAX);

/** What each action type takes besides its `type`; one entry per type of the vocabulary. */
const ACTION_FIELDS = {
  link: { text, uri },
  webview: { text, uri },
  postback: { text, payload },
  reply: { text, payload, iconUrl: uri.optional() },
  locationRequest: { text },
  share: {},
  buy: {
    text,
    amount: z.number().int("must be an integer number of cents").positive("must be more than 0 cents"),
    // Lowercased in place (not a transform, which would keep the schema's examples out of the document).
    currency: z.string().regex(/^[A-Za-z]{3}$/, "must be a 3-letter ISO 4217 code").toLowerCase().default("usd"),
  },
} satisfies Record<ActionType, z.ZodRawShape>;

const options = Object.entries(ACTION_FIELDS).map(([type, fields]) => z.object({ type: z.literal(type), ...fields }));

/** One action of a message, its fields checked by its `type` (built from the table, so typed by hand). */
export const actionInput = z.discriminatedUnion("type", options as [(typeof options)[number]]) as unknown as z.ZodType<ActionInput>;

export const actionsInput = z
  .array(actionInput)
  .max(MAX_ACTIONS, `must hold at most ${MAX_ACTIONS} actions`)
  .meta({ examples: [[]], description: "Buttons of an appMaker message: link, webview, postback, reply, locationRequest, share, buy." });
