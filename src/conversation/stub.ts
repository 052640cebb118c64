/** The Durable Object holding the conversation with this id. */
export function conversationStub(env: Env, conversationId: string) {
  return env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(conversationId));
}
