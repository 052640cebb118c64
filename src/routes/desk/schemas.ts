import { z } from "zod";
import { ACTIVITY_TYPES } from "../../enums";

export { changeConversationBody, listQuery, searchQuery } from "../conversations/schemas";

export const deskMessageBody = z.object({ text: z.string().trim().min(1, "must not be empty").max(8192) });

export const deskActivityBody = z.object({ type: z.enum(ACTIVITY_TYPES) });

export const historyQuery = z.object({ before: z.coerce.number().positive().optional() });
