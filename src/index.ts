import { app } from "./app";

export { Conversation } from "./conversation/conversation";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
