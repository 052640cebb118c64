import type { Conversation } from "./conversation";

/** The Durable Object holding the conversation with this id. */
export function conversationStub(env: Env, conversationId: string): DurableObjectStub<Conversation> {
  // `wrangler types` leaves the namespace untyped; the class is ours, so name it here.
  const namespace = env.CONVERSATIONS as unknown as DurableObjectNamespace<Conversation>;
  return namespace.get(namespace.idFromName(conversationId));
}
