/** What the Conversation's outbox puts on the WEBHOOKS queue: one message, one webhook. */
export interface DeliveryJob {
  /** The conversation's object id: deliveries with the same one are made in enqueue order. */
  conversation: string;
  /** Stays the same across every retry of this delivery (the X-Parley-Delivery header). */
  deliveryId: string;
  webhookId: string;
  messageId: string;
  trigger: "message:appUser" | "message:appMaker";
  /** The exact JSON body to post, built once so every attempt sends the same bytes. */
  body: string;
}

/** The webhooks a message reaches, passed by the worker with each append. */
export interface WebhookRoute {
  id: string;
  triggers: string[];
}

export const matches = (route: WebhookRoute, role: string) =>
  route.triggers.includes("message") || route.triggers.includes(`message:${role}`);
