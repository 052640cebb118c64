import { z } from "zod";
import { ACTIVITY_TYPES } from "../../enums";
import { changeBodyWith, listQuery as v1ListQuery } from "../conversations/schemas";

export { searchQuery } from "../conversations/schemas";

/**
 * An agent's address as the Desk takes it: it need only look like one, since the local agent of
 * `npm run dev` is `agent@localhost`, which an email check refuses (an assignee that is no agent of
 * the app is a 400 anyway, and a filter on one finds nothing).
 */
const agentAddress = z.string().trim().min(3).max(254).includes("@");

/** As the v1 API's list and triage; only the address check differs. */
export const listQuery = v1ListQuery.extend({ assignee: z.union([z.literal("none"), agentAddress]).optional() });
export const changeConversationBody = changeBodyWith(agentAddress);

export const deskMessageBody = z.object({ text: z.string().trim().min(1, "must not be empty").max(8192) });

export const deskActivityBody = z.object({ type: z.enum(ACTIVITY_TYPES) });

export const historyQuery = z.object({ before: z.coerce.number().positive().optional() });
