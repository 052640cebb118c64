import { config } from "../../config";

/**
 * The few Slack Web API calls Parley makes, written against fetch: a form-encoded POST with the
 * bot token (the encoding every method takes; JSON bodies only some), answered with
 * `{ ok, error?, ... }`. The base URL is SLACK_API_URL.
 */

/** What a call came to: Slack's answer, or why not and whether trying again may help. */
export type SlackResult<T> =
  | { ok: true; value: T }
  | { ok: false; error: string; retry: boolean; retryAfterSeconds?: number | null; status: number | null };

/** Slack's refusals that no retry can mend: the integration itself is broken until its team fixes it. */
export const BROKEN_INTEGRATION = new Set(["invalid_auth", "not_authed", "account_inactive", "token_revoked", "channel_not_found", "not_in_channel", "is_archived"]);

/** Slack answers within seconds or not at all: give up after this and retry later. */
const TIMEOUT_MS = 10_000;

const retryAfterOf = (response: Response) => {
  const seconds = Number(response.headers.get("retry-after"));
  return Number.isFinite(seconds) && seconds > 0 ? seconds : null;
};

/** Slack's form encoding: structured values (blocks, metadata) as JSON text. */
const formOf = (body: Record<string, unknown>) =>
  new URLSearchParams(
    Object.entries(body)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]),
  );

export async function slackCall<T>(env: Env, token: string, method: string, body: Record<string, unknown>): Promise<SlackResult<T>> {
  let response: Response;
  try {
    response = await fetch(`${config(env).slack.apiUrl}/${method}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: formOf(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    return { ok: false, error: `network: ${error instanceof Error ? error.message : String(error)}`, retry: true, status: null };
  }
  if (response.status === 429 || response.status >= 500) {
    await response.body?.cancel();
    return { ok: false, error: `http ${response.status}`, retry: true, retryAfterSeconds: retryAfterOf(response), status: response.status };
  }
  const answer = (await response.json().catch(() => null)) as ({ ok?: boolean; error?: string } & T) | null;
  if (!answer || typeof answer.ok !== "boolean") return { ok: false, error: `http ${response.status}: not Slack's JSON`, retry: true, status: response.status };
  if (!answer.ok) {
    const error = answer.error ?? "unknown_error";
    // Slack also answers some limits with ok: false (ratelimited) and its own trouble with internal_error.
    const retry = error === "ratelimited" || error === "internal_error" || error === "fatal_error" || error === "service_unavailable";
    return { ok: false, error, retry, retryAfterSeconds: retryAfterOf(response), status: response.status };
  }
  return { ok: true, value: answer };
}

/** How many recent messages a look for one of Parley's own reads: Slack's largest page. */
const LOOKUP_LIMIT = 1000;

/** What Parley's own messages carry (`metadata`), so that it can find them again. */
export interface SlackMetadata {
  event_type: string;
  event_payload: Record<string, string>;
}

/**
 * Whether Slack shows a message of Parley's carrying this metadata: among a thread's replies
 * (`conversations.replies`), or a channel's messages outside threads since `oldest`
 * (`conversations.history`). Its ts, or null when none is found or Slack cannot be asked (a
 * workspace that did not grant the history scopes): the caller then posts, as it would anyway.
 */
export async function findOwnMessage(
  env: Env,
  token: string,
  where: { channel: string; thread?: string; oldest?: string },
  metadata: SlackMetadata,
): Promise<string | null> {
  const method = where.thread ? "conversations.replies" : "conversations.history";
  const result = await slackCall<{ messages?: Array<{ ts: string; metadata?: Partial<SlackMetadata> }> }>(env, token, method, {
    channel: where.channel,
    ts: where.thread,
    oldest: where.oldest,
    include_all_metadata: true,
    limit: LOOKUP_LIMIT,
  });
  if (!result.ok) return null;
  const same = (payload: Record<string, unknown> | undefined) =>
    Object.entries(metadata.event_payload).every(([key, value]) => payload?.[key] === value);
  return result.value.messages?.find((message) => message.metadata?.event_type === metadata.event_type && same(message.metadata.event_payload))?.ts ?? null;
}

/** Who the token is: `auth.test`. */
export const authTest = (env: Env, token: string) => slackCall<{ team_id?: string; user_id?: string }>(env, token, "auth.test", {});

export interface SlackProfile {
  name: string;
  avatarUrl: string | undefined;
}

/** A Slack user's name and picture: `users.info`. */
export async function userProfile(env: Env, token: string, userId: string): Promise<SlackResult<SlackProfile>> {
  const result = await slackCall<{ user?: { name?: string; real_name?: string; profile?: { real_name?: string; display_name?: string; image_192?: string; image_72?: string } } }>(
    env,
    token,
    "users.info",
    { user: userId },
  );
  if (!result.ok) return result;
  const user = result.value.user ?? {};
  const profile = user.profile ?? {};
  const name = profile.real_name || user.real_name || profile.display_name || user.name || userId;
  return { ok: true, value: { name, avatarUrl: profile.image_192 ?? profile.image_72 } };
}
