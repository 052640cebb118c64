import type { Integration, IntegrationOf } from "../db/integrations";
import type { IntegrationType } from "../enums";

/** What an integration stores: its type, what responses show, and what only its channel reads. */
export type Configured<T extends IntegrationType = IntegrationType> = Pick<IntegrationOf<T>, "type" | "public" | "secret">;

/**
 * What one type of integration contributes to the generic resource (registry.ts): how its
 * validated input becomes what is stored. Each lives with its channel (channels/push/integration.ts)
 * and is listed in channels/integrations.ts.
 */
export interface IntegrationKind<I extends { type: Integration["type"] }> {
  /** Its keys checked (or generated): a 400 naming the field when they cannot work, now rather than at the first send. */
  configure(input: I, env: Env): Promise<Configured<I["type"]>>;
}
