import { z } from "zod";
import { ACTIVITY_TYPES } from "../../enums";

import { changeBodyWith } from "../conversations/schemas";

export { listQuery, searchQuery } from "../conversations/schemas";

/**
 * As the v1 API's, but the assignee need only look like an address: the local agent of `npm run dev`
 * is `agent@localhost`, which an email check refuses (and an assignee that is no agent is a 400 anyway).
 */
export const changeConversationBody = changeBodyWith(z.string().trim().min(3).max(254).includes("@"));

export const deskMessageBody = z.object({ text: z.string().trim().min(1, "must not be empty").max(8192) });

export const deskActivityBody = z.object({ type: z.enum(ACTIVITY_TYPES) });

export const historyQuery = z.object({ before: z.coerce.number().positive().optional() });
