import { tombstoneStatements } from "../db/erased-messages";

/** Deliveries about these erased messages that already left the outbox are dropped by the consumer. */
export async function tombstone(env: Env, messageIds: string[]): Promise<void> {
  if (messageIds.length > 0) await env.DB.batch(tombstoneStatements(env.DB, messageIds, Date.now()));
}
