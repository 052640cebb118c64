import { z } from "zod";
import { CONVERSATION_STATUSES } from "../../enums";

const limit = (fallback: number) => z.coerce.number().int().min(1).max(100).default(fallback);
const before = z.coerce.number().positive().optional().meta({ description: "A `lastActivity` (or a message's `received`): the page starts below it." });

export const listQuery = z.object({
  limit: limit(25),
  before,
  status: z.enum([...CONVERSATION_STATUSES, "all"]).default("open"),
  assignee: z.union([z.literal("none"), z.email()]).optional().meta({ description: "An agent's email, or `none` for the unassigned." }),
  q: z.string().trim().min(1).max(200).optional().meta({ description: "Kept: users whose userId, givenName, surname or email contains it (case ignored)." }),
});

export const searchQuery = z.object({
  q: z.string().trim().min(1, "must not be empty").max(200),
  limit: limit(25),
  before,
});

/** A triage body whose assignee is checked by `assignee` (an assignee must be an agent of the app in any case). */
export const changeBodyWith = (assignee: z.ZodString | z.ZodEmail) =>
  z
    .object({
      status: z.enum(CONVERSATION_STATUSES).optional(),
      assignee: assignee.nullable().optional().meta({ description: "An agent's email, or null to unassign." }),
    })
    .refine((body) => body.status !== undefined || body.assignee !== undefined, { message: "must set status or assignee", path: ["body"] });

export const changeConversationBody = changeBodyWith(z.email());
