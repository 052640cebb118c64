import type { Configured, IntegrationKind } from "../integrations/kind";
import { emailIntegration, type EmailInput } from "./email/integration";
import { slackIntegration, type SlackInput } from "./slack/integration";
import { apnIntegration, fcmIntegration, webPushIntegration, type ApnInput, type FcmInput, type WebPushInput } from "./push/integration";

/** What POST /v1/apps/{appId}/integrations accepts, validated: one input per integration type. */
export type IntegrationInput = FcmInput | ApnInput | WebPushInput | SlackInput | EmailInput;

type Kinds = { [T in IntegrationInput["type"]]: IntegrationKind<Extract<IntegrationInput, { type: T }>> };

/**
 * Every type of integration and the channel module that sets it up. A new type adds its input
 * to IntegrationInput and its module here; the resource (src/integrations/) stays as it is.
 */
const KINDS: Kinds = { fcm: fcmIntegration, apn: apnIntegration, webpush: webPushIntegration, slack: slackIntegration, email: emailIntegration };

/** What the input configures, by its type's own module. */
export const configureIntegration = (input: IntegrationInput, env: Env): Promise<Configured> =>
  (KINDS[input.type] as IntegrationKind<IntegrationInput>).configure(input, env);
