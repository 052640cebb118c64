import type { EventTrigger } from "../enums";
import { newId } from "../lib/ids";
import { matches, MAX_JOBS_PER_EVENT, type DeliveryJob, type Fanout } from "../webhooks/delivery";
import { JobOutbox, type OutboxAlarm } from "./job-outbox";

/** Something webhooks hear about: a stored message, a postback, a read. */
export interface WebhookEvent {
  trigger: EventTrigger;
  /** The message it concerns (see DeliveryJob.messageId). */
  messageId: string;
  /** The payload every delivery posts, about the fan-out's user; built only when a webhook listens. */
  payload: (appUser: Fanout["appUser"]) => Record<string, unknown>;
}

/**
 * The Conversation's transactional outbox for webhooks: one job per event and webhook, written
 * in the same storage transaction as whatever the event records, then moved to the WEBHOOKS
 * queue in the order written (see JobOutbox).
 */
export class Outbox extends JobOutbox<DeliveryJob> {
  /** The conversation's object id: deliveries with the same one are made in enqueue order. */
  private readonly conversation: string;

  constructor(ctx: DurableObjectState, alarm: OutboxAlarm, queue: Queue<DeliveryJob>) {
    super(ctx, alarm, queue, "outbox", "webhook");
    this.conversation = ctx.id.toString();
  }

  /**
   * Writes a job for each of the fan-out's webhooks that listens to the event's trigger, and
   * returns how many. Call it inside the storage transaction that records the event, and set the
   * alarm (`wake`) once that transaction has committed.
   */
  add(event: WebhookEvent, fanout: Fanout | undefined): number {
    // Bounded whatever the caller passes: an event never writes more than the cap.
    const routes = (fanout?.webhooks.filter((route) => matches(route, event.trigger)) ?? []).slice(0, MAX_JOBS_PER_EVENT);
    if (!fanout || routes.length === 0) return 0;
    // Built once, so every delivery and every retry posts the same bytes.
    const body = JSON.stringify(event.payload(fanout.appUser));
    for (const route of routes) {
      this.put({
        conversation: this.conversation,
        deliveryId: newId(),
        webhookId: route.id,
        messageId: event.messageId,
        trigger: event.trigger,
        body,
      });
    }
    return routes.length;
  }
}
