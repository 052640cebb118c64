import { z } from "zod";
import type { Integration } from "../db/integrations";
import { withoutNulls } from "./without-nulls";

/** The fields every integration shows, as smooch-core's integrations API reads them. */
const base = { _id: z.string(), status: z.literal("active") };

const fcmSchema = z.object({
  ...base,
  type: z.literal("fcm"),
  projectId: z.string(),
  clientEmail: z.string(),
  senderId: z.string().optional(),
});
const apnSchema = z.object({
  ...base,
  type: z.literal("apn"),
  keyId: z.string(),
  teamId: z.string(),
  bundleId: z.string(),
  production: z.boolean(),
});
const webPushSchema = z.object({
  ...base,
  type: z.literal("webpush"),
  vapidPublicKey: z.string().meta({
    description: "The VAPID public key (URL-safe base64): a browser's `applicationServerKey` when it subscribes.",
  }),
});

const emailSchema = z.object({
  ...base,
  type: z.literal("email"),
  to: z.array(z.string()),
  fromName: z.string().optional(),
});

export const integrationSchema = z.discriminatedUnion("type", [fcmSchema, apnSchema, webPushSchema, emailSchema]).meta({
  id: "Integration",
  description: "A push or email channel of an app. Its secrets (private keys, the email reply-address key) are never shown.",
});

/** Only the public half of an integration: its secrets never reach a response. */
export function presentIntegration(integration: Integration): z.output<typeof integrationSchema> {
  const shown = { _id: integration.id, status: "active" as const };
  switch (integration.type) {
    case "fcm": {
      const { projectId, clientEmail, senderId } = integration.public;
      return { ...shown, type: "fcm", ...withoutNulls({ projectId, clientEmail, senderId }) };
    }
    case "apn":
      return { ...shown, type: "apn", ...integration.public };
    case "webpush":
      return { ...shown, type: "webpush", vapidPublicKey: integration.public.vapidPublicKey };
    case "email":
      return { ...shown, type: "email", ...withoutNulls({ to: integration.public.to, fromName: integration.public.fromName }) };
  }
}
