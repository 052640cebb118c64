import { app } from "./app";
import type { PushJob } from "./push/jobs";
import { handlePushBatch, PUSH_DEAD_LETTER_QUEUE, PUSH_QUEUE } from "./push/consumer";
import type { DeliveryJob } from "./webhooks/delivery";
import { handleWebhookBatch } from "./webhooks/consumer";

export { Conversation } from "./conversation/conversation";
export { RealtimeClient } from "./realtime/client";
export { AppEraser } from "./lifecycle/app-eraser";

const PUSH_QUEUES: string[] = [PUSH_QUEUE, PUSH_DEAD_LETTER_QUEUE];

export default {
  fetch: app.fetch,
  // Webhook deliveries and their dead letters, or push jobs and theirs (wrangler.toml).
  queue: (batch, env) =>
    PUSH_QUEUES.includes(batch.queue)
      ? handlePushBatch(batch as MessageBatch<PushJob>, env)
      : handleWebhookBatch(batch as MessageBatch<DeliveryJob>, env),
} satisfies ExportedHandler<Env, DeliveryJob | PushJob>;
