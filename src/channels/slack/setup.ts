import { badRequest } from "../../errors";
import { authTest } from "./api";

/**
 * Asks Slack who a bot token is (auth.test) before an integration keeps it: a refused token is a
 * 400 naming `botToken` now, not a dead letter later. Slack out of reach is a 503-like failure
 * of the request (thrown), never a stored token that was not checked.
 */
export async function checkedSlackToken(env: Env, botToken: string): Promise<{ teamId: string | null; botUserId: string | null }> {
  const result = await authTest(env, botToken);
  if (result.ok) return { teamId: result.value.team_id ?? null, botUserId: result.value.user_id ?? null };
  if (result.retry) throw new Error(`slack auth.test unavailable: ${result.error}`);
  throw badRequest(`botToken: Slack refused it (${result.error})`);
}
