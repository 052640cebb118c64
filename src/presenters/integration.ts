import { z } from "zod";
import type { Integration } from "../db/integrations";
import { withoutNulls } from "./without-nulls";

/** The fields every integration shows, as smooch-core's integrations API reads them. */
const base = {
  _id: z.string(),
  status: z.enum(["active", "error"]).meta({
    description: "`error` once the channel's service refused it for good (a revoked token, a channel the bot left); `statusReason` says why.",
  }),
  statusReason: z.string().optional(),
};

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

const slackSchema = z.object({
  ...base,
  type: z.literal("slack"),
  channelId: z.string().meta({ description: "The Slack channel conversations are threaded in." }),
  teamId: z.string().optional().meta({ description: "The workspace, as Slack's auth.test named it." }),
});

const emailSchema = z.object({
  ...base,
  type: z.literal("email"),
  to: z.array(z.string()),
  fromName: z.string().optional(),
});

export const integrationSchema = z.discriminatedUnion("type", [fcmSchema, apnSchema, webPushSchema, slackSchema, emailSchema]).meta({
  id: "Integration",
  description: "A channel of an app: push, Slack or email. Its secrets (private keys, tokens, signing secrets, the email reply-address key) are never shown.",
});

/** Only the public half of an integration: its secrets never reach a response. */
export function presentIntegration(integration: Integration): z.output<typeof integrationSchema> {
  const shown = { _id: integration.id, status: integration.status ?? "active", ...withoutNulls({ statusReason: integration.statusReason }) };
  switch (integration.type) {
    case "fcm": {
      const { projectId, clientEmail, senderId } = integration.public;
      return { ...shown, type: "fcm", ...withoutNulls({ projectId, clientEmail, senderId }) };
    }
    case "apn":
      return { ...shown, type: "apn", ...integration.public };
    case "webpush":
      return { ...shown, type: "webpush", vapidPublicKey: integration.public.vapidPublicKey };
    case "slack":
      return { ...shown, type: "slack", ...withoutNulls({ channelId: integration.public.channelId, teamId: integration.public.teamId }) };
    case "email":
      return { ...shown, type: "email", ...withoutNulls({ to: integration.public.to, fromName: integration.public.fromName }) };
  }
}
