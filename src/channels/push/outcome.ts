/** What a provider made of one push, and how its answers map onto it. */
export type PushOutcome =
  | { outcome: "sent"; status: number }
  | { outcome: "retry"; status: number | null; retryAfterSeconds: number | null; reason: string }
  /** The provider says the token is dead: clear it from its device. */
  | { outcome: "invalid-token"; status: number; reason: string }
  /** Permanent, not the token's fault (bad credentials, no channel for the device, ...). */
  | { outcome: "failed"; status: number | null; reason: string };

const REASON_MAX = 300;

/** Reasons are built from provider error codes and Parley's own words, never from a secret or a token. */
const short = (reason: string) => (reason.length > REASON_MAX ? `${reason.slice(0, REASON_MAX - 1)}…` : reason);

/** `Retry-After` as seconds from now: delta-seconds or an HTTP date; null when absent or unreadable. */
function retryAfterSeconds(header: string | null): number | null {
  if (!header) return null;
  if (/^\s*\d+\s*$/.test(header)) return Number(header);
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/**
 * The verdict on a provider's answer: 2xx sent; a dead token (each provider says so its own
 * way); 429 and 5xx retried after `Retry-After` when given; anything else a permanent failure.
 */
export function outcomeOf(response: Response, reason: string, tokenIsDead: boolean): PushOutcome {
  const status = response.status;
  if (status >= 200 && status < 300) return { outcome: "sent", status };
  if (tokenIsDead) return { outcome: "invalid-token", status, reason: short(reason) };
  if (status === 429 || status >= 500) {
    return { outcome: "retry", status, retryAfterSeconds: retryAfterSeconds(response.headers.get("retry-after")), reason: short(reason) };
  }
  return { outcome: "failed", status, reason: short(reason) };
}

export const retry = (reason: string, status: number | null = null): PushOutcome => ({
  outcome: "retry",
  status,
  retryAfterSeconds: null,
  reason: short(reason),
});

export const failed = (reason: string, status: number | null = null): PushOutcome => ({ outcome: "failed", status, reason: short(reason) });

const TIMEOUT_MS = 20_000;

/**
 * POSTs to a provider without following redirects. A request that got no answer (refused,
 * reset, timed out) is worth another try: its outcome is a retry naming the provider.
 */
export async function postTo(provider: string, url: string, init: { headers: HeadersInit; body: BodyInit }): Promise<Response | PushOutcome> {
  try {
    return await fetch(url, { method: "POST", redirect: "manual", signal: AbortSignal.timeout(TIMEOUT_MS), ...init });
  } catch (error) {
    return retry(`${provider} unreachable: ${error instanceof Error ? error.name : "error"}`);
  }
}

/**
 * The error codes a provider's JSON error body names (FCM's `error.status` and
 * `details[].errorCode`, APNs' `reason`), if any. Reads the body, which nothing else needs.
 */
export async function errorCodes(response: Response): Promise<string[]> {
  if (response.ok) {
    await response.body?.cancel();
    return [];
  }
  try {
    const body = (await response.json()) as Record<string, any>;
    const codes = [body?.reason, body?.error?.status, ...(Array.isArray(body?.error?.details) ? body.error.details.map((d: any) => d?.errorCode) : [])];
    return codes.filter((code): code is string => typeof code === "string" && /^[A-Za-z_]{1,64}$/.test(code));
  } catch {
    return [];
  }
}
