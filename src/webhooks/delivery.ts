import type { MessageTrigger, Role, Trigger } from "../enums";

/** What the Conversation's outbox puts on the WEBHOOKS queue: one message, one webhook. */
export interface DeliveryJob {
  /** The conversation's object id: deliveries with the same one are made in enqueue order. */
  conversation: string;
  /** Stays the same across every retry of this delivery (the X-Parley-Delivery header). */
  deliveryId: string;
  webhookId: string;
  messageId: string;
  trigger: MessageTrigger;
  /** The exact JSON body to post, built once so every attempt sends the same bytes. */
  body: string;
}

/** The webhooks a message reaches, passed by the worker with each append. */
export interface WebhookRoute {
  id: string;
  triggers: Trigger[];
}

/** Where a conversation's messages go besides storage: webhooks, with the user they concern. */
export interface Fanout {
  webhooks: WebhookRoute[];
  appUser: Record<string, unknown>;
}

export const matches = (route: WebhookRoute, role: Role) =>
  route.triggers.includes("message") || route.triggers.includes(`message:${role}`);
