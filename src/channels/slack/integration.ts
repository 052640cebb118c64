import { badRequest } from "../../errors";
import type { IntegrationKind } from "../../integrations/kind";
import { authTest } from "./api";

export type SlackInput = { type: "slack"; botToken: string; signingSecret: string; channelId: string };

/**
 * Asks Slack who a bot token is (auth.test) before an integration keeps it: a refused token is a
 * 400 naming `botToken` now, not a dead letter later. Slack out of reach is a failure of the
 * request (thrown), never a stored token that was not checked.
 */
export const slackIntegration: IntegrationKind<SlackInput> = {
  async configure({ botToken, signingSecret, channelId }, env) {
    const result = await authTest(env, botToken);
    if (!result.ok) {
      if (result.retry) throw new Error(`slack auth.test unavailable: ${result.error}`);
      throw badRequest(`botToken: Slack refused it (${result.error})`);
    }
    return {
      type: "slack",
      public: { channelId, teamId: result.value.team_id ?? null, botUserId: result.value.user_id ?? null },
      secret: { botToken, signingSecret },
    };
  },
};
