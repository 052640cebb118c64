import { z } from "zod";
import type { Delivery } from "../db/webhook-deliveries";
import type { Webhook } from "../db/webhooks";
import { DELIVERY_OUTCOMES, TRIGGERS } from "../enums";

export const webhookSchema = z
  .object({ _id: z.string(), triggers: z.array(z.enum(TRIGGERS)), secret: z.string(), target: z.string() })
  .meta({ id: "Webhook", description: "A URL the app's events are posted to." });

export const webhookWithSigningSecretSchema = webhookSchema
  .extend({
    signingSecret: z.string().meta({
      description: "The key of X-Parley-Signature. Shown only here, when created or rotated: store it.",
    }),
  })
  .meta({ id: "WebhookWithSigningSecret", description: "A webhook as created or rotated, with its signing secret." });

export const deliverySchema = z
  .object({
    _id: z.string(),
    messageId: z.string().meta({
      description: "The message the event concerns: the message itself, the one whose action was posted back, or the newest one read.",
    }),
    trigger: z.string(),
    attempts: z.number(),
    lastStatus: z.number().nullable(),
    lastError: z.string().nullable(),
    outcome: z.enum(DELIVERY_OUTCOMES),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: "Delivery", description: "One event's delivery to a webhook, as its latest attempt left it." });

export const presentWebhook = (w: Webhook): z.output<typeof webhookSchema> => ({
  _id: w.id,
  triggers: w.triggers,
  secret: w.secret,
  target: w.target,
});

export const presentWebhookWithSigningSecret = (w: Webhook): z.output<typeof webhookWithSigningSecretSchema> => ({
  ...presentWebhook(w),
  signingSecret: w.signingSecret,
});

export const presentDelivery = (d: Delivery): z.output<typeof deliverySchema> => ({
  _id: d.id,
  messageId: d.messageId,
  trigger: d.trigger,
  attempts: d.attempts,
  lastStatus: d.lastStatus,
  lastError: d.lastError,
  outcome: d.outcome,
  createdAt: new Date(d.createdAt).toISOString(),
  updatedAt: new Date(d.updatedAt).toISOString(),
});
