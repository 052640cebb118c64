import { z } from "zod";
import { TRIGGERS } from "../../enums";

const triggers = z.array(z.enum(TRIGGERS)).min(1, "must name at least one trigger").max(TRIGGERS.length);

export const target = z
  .url({ protocol: /^https?$/, error: "must be an absolute http(s) URL" })
  .max(2048);

/** `events` is the earlier revision's name for `triggers`; either is accepted. */
const triggerFields = { triggers: triggers.optional(), events: triggers.optional() };

function useEventsAlias<T extends { triggers?: z.output<typeof triggers>; events?: z.output<typeof triggers> }>({
  events,
  ...rest
}: T) {
  return { ...rest, triggers: rest.triggers ?? events };
}

export const createWebhookBody = z.object({ target, ...triggerFields }).transform(useEventsAlias);
export const updateWebhookBody = z.object({ target: target.optional(), ...triggerFields }).transform(useEventsAlias);

export const deliveriesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
