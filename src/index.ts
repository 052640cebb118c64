import { app } from "./app";
import { CHANNELS } from "./channels/registry";
import type { QueuedJob } from "./delivery/channel";
import { answerSlackEventsWith } from "./channels/slack/channel";
import { handleDeliveryBatch } from "./delivery/consumer";
import { handleInboundEmail } from "./inbound-email/replies";
import { answerFromSlack } from "./slack-replies/answer";

answerSlackEventsWith(answerFromSlack);

export { Conversation } from "./conversation/object/conversation";
export { RealtimeClient } from "./realtime/client";
export { AppEraser } from "./erasure/app-eraser";
export { DeskRoom } from "./desk-live/room";

export default {
  fetch: app.fetch,
  // Every channel's deliveries and dead letters (wrangler.toml): one consumer.
  queue: (batch, env) => handleDeliveryBatch(batch, env, CHANNELS),
  // Replies to the email channel's emails (Email Routing's catch-all rule for EMAIL_DOMAIN).
  email: (message, env) => handleInboundEmail(message, env),
} satisfies ExportedHandler<Env, QueuedJob>;
