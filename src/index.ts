import { app } from "./app";
import type { DeliveryJob } from "./webhooks/delivery";
import { handleWebhookBatch } from "./webhooks/consumer";

export { Conversation } from "./conversation/conversation";
export { RealtimeClient } from "./realtime/client";
export { AppEraser } from "./lifecycle/app-eraser";

export default {
  fetch: app.fetch,
  queue: (batch, env) => handleWebhookBatch(batch, env),
} satisfies ExportedHandler<Env, DeliveryJob>;
