import type { Job } from "../../delivery/channel";
import type { EventTrigger, Trigger } from "../../enums";

/** What the Conversation's outbox puts on the WEBHOOKS queue: one event, one webhook. */
export interface DeliveryJob extends Job {
  /** The conversation's object id: deliveries with the same one are made in enqueue order. */
  conversation: string;
  /** Stays the same across every retry of this delivery (the X-Parley-Delivery header). */
  deliveryId: string;
  webhookId: string;
  /**
   * The message the event concerns, as the delivery record shows it: the message itself, the
   * message whose action was posted back, or the newest message of a conversation read.
   */
  messageId: string;
  trigger: EventTrigger;
  /** The exact JSON body to post, built once so every attempt sends the same bytes. */
  body: string;
}

/** The most deliveries one event fans out to: an app's webhooks are capped at this too. */
export const MAX_JOBS_PER_EVENT = 10;

/** The webhooks a message reaches, passed by the worker with each append. */
export interface WebhookRoute {
  id: string;
  triggers: Trigger[];
}

/** Where a conversation's events go besides storage: webhooks, with the user they concern. */
export interface Fanout {
  webhooks: WebhookRoute[];
  appUser: Record<string, unknown>;
}

/** Whether a webhook listens to a trigger; `message` listens to both roles' messages. */
export const matches = (route: WebhookRoute, trigger: EventTrigger) =>
  route.triggers.includes(trigger) || (trigger.startsWith("message:") && route.triggers.includes("message"));
