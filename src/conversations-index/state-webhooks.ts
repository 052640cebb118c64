import type { AppUser } from "../db/app-users";
import type { EventTrigger } from "../enums";
import { newId } from "../lib/ids";
import { matches, MAX_JOBS_PER_EVENT, type DeliveryJob } from "../channels/webhooks/delivery";
import { fanoutFor } from "../channels/webhooks/fanout";

/**
 * Tells the webhooks listening to `conversation:status` / `conversation:assignee` of a change the
 * business made through the API. The change is a D1 write, not a Conversation event, so its
 * deliveries go straight on the webhooks' queue, in the conversation's lane, delivered and
 * recorded like any other.
 */
export async function announceStateChange(
  env: Env,
  user: AppUser,
  change: { trigger: Extract<EventTrigger, "conversation:status" | "conversation:assignee">; newestMessageId: string | null; detail: object },
): Promise<void> {
  const fanout = await fanoutFor(env, user);
  const routes = fanout?.webhooks.filter((route) => matches(route, change.trigger)).slice(0, MAX_JOBS_PER_EVENT) ?? [];
  if (!fanout || routes.length === 0) return;
  const body = JSON.stringify({
    trigger: change.trigger,
    appUser: fanout.appUser,
    conversation: { _id: user.conversationId },
    ...change.detail,
    timestamp: Date.now() / 1000,
  });
  const conversation = env.CONVERSATIONS.idFromName(user.conversationId).toString();
  // A delivery names a message (erasure drops those about erased ones): the newest, if any.
  const messageId = change.newestMessageId ?? newId();
  const jobs: DeliveryJob[] = routes.map((route) => ({ conversation, deliveryId: newId(), webhookId: route.id, messageId, trigger: change.trigger, body }));
  await env.WEBHOOKS.sendBatch(jobs.map((job) => ({ body: job, contentType: "json" as const })));
}
