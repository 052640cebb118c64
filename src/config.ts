import { z } from "zod";

/**
 * Every environment variable Parley reads, parsed once per `env` object. Nothing else reads a
 * variable by name: a misconfigured deploy fails on its first request with an error that names
 * the variable, rather than running on a silent fallback.
 */
export interface Config {
  /** The account key that signs account-scope JWTs; null when the account API is not configured. */
  account: { keyId: string; secret: string } | null;
  /** How long an isolate trusts a cached app, key, app token or webhook list: the revocation bound, at most 5 s. */
  authCacheSeconds: number;
  /** The largest image upload, in bytes. */
  mediaMaxBytes: number;
  /** The origin media URLs are built on; null means the origin of the upload request. */
  publicUrl: string | null;
  /** The first webhook retry's delay; each further retry doubles it. */
  webhookRetryBaseSeconds: number;
  /** The first push retry's delay; each further retry doubles it (a provider's Retry-After wins when longer). */
  pushRetryBaseSeconds: number;
  /** After this long a webhook queue batch starts no further delivery; the rest go back untried. */
  webhookBatchBudgetSeconds: number;
  /** Whether webhook targets may be on this machine or a private network (local development). */
  webhookAllowPrivateTargets: boolean;
  /** Whether /demo answers on any host, not only on loopback ones (local development). */
  demoEnabled: boolean;
  /** What /demo asks for (`?secret=`) when set: `npm run dev` sets it when it listens beyond loopback. */
  demoSecret: string | null;
  /** The delivery log keeps at most this many records per webhook, the newest. */
  deliveryLogKeep: number;
  /** ... and none older than this many days. */
  deliveryLogDays: number;
  /** A conversation takes at most this many realtime subscribers: every post fans out to each. */
  realtimeMaxSubscribers: number;
  /** A realtime WebSocket is closed after this many seconds, whatever it does (clients reconnect). */
  realtimeSocketMaxSeconds: number;
  /**
   * Cloudflare Access in front of the Desk (src/desk/): the team domain whose keys sign its tokens
   * (`iss`), and the Desk application's audience tag (`aud`). Null: the Desk answers only on
   * loopback hosts, as a local agent of every app.
   */
  access: { teamDomain: string; audience: string } | null;
  /** The domain Email Routing hands this worker mail for, and its emails are sent from; null: no email channel. */
  emailDomain: string | null;
  /** The first email retry's delay; each further retry doubles it. */
  emailRetryBaseSeconds: number;
  /** Where push notifications go (src/channels/push/): Google's and Apple's hosts unless replaced, e.g. by tests' fakes. */
  push: {
    /** FCM HTTP v1's origin: messages go to `${fcmApiUrl}/v1/projects/{project_id}/messages:send`. */
    fcmApiUrl: string;
    /** The OAuth2 token endpoint, whatever `token_uri` a service account names. */
    googleTokenUrl: string;
    /** Replaces both Apple's production and sandbox origins when set. */
    apnsApiUrl: string | null;
    /** The VAPID `sub` claim (a mailto: or https: URL); null sends none. */
    vapidSubject: string | null;
  };
  /** The Slack channel (src/channels/slack/): the Web API's base URL, e.g. a test's fake; the first retry's delay. */
  slack: { apiUrl: string; retryBaseSeconds: number };
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

const blank = (value: string | undefined) => value === undefined || value.trim() === "";

const integer = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .optional()
    .refine((value) => blank(value) || (/^\s*\d+\s*$/.test(value!) && Number(value) >= min && Number(value) <= max), {
      message: max === Number.MAX_SAFE_INTEGER ? `must be a whole number of at least ${min}` : `must be a whole number from ${min} to ${max}`,
    })
    .transform((value) => (blank(value) ? fallback : Number(value)));

const flag = z
  .enum(["true", "false", ""], { error: 'must be "true" or "false"' })
  .optional()
  .transform((value) => value === "true");

const origin = z
  .union([z.literal(""), z.url({ protocol: /^https?$/, error: "must be empty or an absolute http(s) URL" })])
  .optional()
  .transform((value) => (value ? value.replace(/\/+$/, "") : null));

/** An absolute http(s) URL, without trailing slashes; empty means the default. */
const endpoint = (fallback: string) =>
  origin.transform((value) => value ?? fallback);

const contact = z
  .union([z.literal(""), z.url({ protocol: /^(https|mailto)$/, error: "must be empty, a mailto: URL or an https: URL" })])
  .optional()
  .transform((value) => value || null);

const domain = z
  .union([z.literal(""), z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, "must be empty or a domain name")])
  .optional()
  .transform((value) => (value ? value.toLowerCase() : null));

const variables = z.object({
  ACCOUNT_KEY_ID: z.string().optional(),
  ACCOUNT_SECRET: z.string().optional(),
  // At most 5: a deleted key or app, or a rotated app token, must stop working everywhere within 5 s.
  AUTH_CACHE_SECONDS: integer(5, 0, 5),
  MEDIA_MAX_BYTES: integer(10 * 1024 * 1024, 1),
  PUBLIC_URL: origin,
  WEBHOOK_RETRY_BASE_SECONDS: integer(10, 1),
  // Below the consumer's 15-minute wall-clock limit, with room for a last 20 s attempt.
  WEBHOOK_BATCH_BUDGET_SECONDS: integer(30, 1, 600),
  WEBHOOK_ALLOW_PRIVATE_TARGETS: flag,
  PUSH_RETRY_BASE_SECONDS: integer(10, 1),
  DEMO_ENABLED: flag,
  DEMO_SECRET: z
    .string()
    .optional()
    .transform((value) => (blank(value) ? null : value!)),
  DELIVERY_LOG_KEEP: integer(1000, 1),
  DELIVERY_LOG_DAYS: integer(30, 1),
  REALTIME_MAX_SUBSCRIBERS: integer(100, 1),
  REALTIME_SOCKET_MAX_SECONDS: integer(24 * 3600, 60),
  FCM_API_URL: endpoint("https://fcm.googleapis.com"),
  GOOGLE_TOKEN_URL: endpoint("https://oauth2.googleapis.com/token"),
  APNS_API_URL: origin,
  VAPID_SUBJECT: contact,
  ACCESS_TEAM_DOMAIN: origin,
  ACCESS_AUD: z
    .string()
    .optional()
    .transform((value) => (blank(value) ? null : value!.trim())),
  SLACK_API_URL: endpoint("https://slack.com/api"),
  SLACK_RETRY_BASE_SECONDS: integer(5, 1),
  EMAIL_DOMAIN: domain,
  EMAIL_RETRY_BASE_SECONDS: integer(10, 1),
});

function parse(env: Env): Config {
  const result = variables.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    const value = (env as unknown as Record<string, unknown>)[String(issue.path[0])];
    throw new ConfigError(`configuration: ${issue.path.join(".")} ${issue.message} (it is ${JSON.stringify(value)})`);
  }
  const vars = result.data;
  if ((vars.ACCESS_TEAM_DOMAIN === null) !== (vars.ACCESS_AUD === null)) {
    throw new ConfigError("configuration: ACCESS_TEAM_DOMAIN and ACCESS_AUD are set together or not at all");
  }
  return {
    account: vars.ACCOUNT_KEY_ID && vars.ACCOUNT_SECRET ? { keyId: vars.ACCOUNT_KEY_ID, secret: vars.ACCOUNT_SECRET } : null,
    authCacheSeconds: vars.AUTH_CACHE_SECONDS,
    mediaMaxBytes: vars.MEDIA_MAX_BYTES,
    publicUrl: vars.PUBLIC_URL,
    webhookRetryBaseSeconds: vars.WEBHOOK_RETRY_BASE_SECONDS,
    webhookBatchBudgetSeconds: vars.WEBHOOK_BATCH_BUDGET_SECONDS,
    webhookAllowPrivateTargets: vars.WEBHOOK_ALLOW_PRIVATE_TARGETS,
    pushRetryBaseSeconds: vars.PUSH_RETRY_BASE_SECONDS,
    demoEnabled: vars.DEMO_ENABLED,
    demoSecret: vars.DEMO_SECRET,
    deliveryLogKeep: vars.DELIVERY_LOG_KEEP,
    deliveryLogDays: vars.DELIVERY_LOG_DAYS,
    realtimeMaxSubscribers: vars.REALTIME_MAX_SUBSCRIBERS,
    realtimeSocketMaxSeconds: vars.REALTIME_SOCKET_MAX_SECONDS,
    access: vars.ACCESS_TEAM_DOMAIN && vars.ACCESS_AUD ? { teamDomain: vars.ACCESS_TEAM_DOMAIN, audience: vars.ACCESS_AUD } : null,
    emailDomain: vars.EMAIL_DOMAIN,
    emailRetryBaseSeconds: vars.EMAIL_RETRY_BASE_SECONDS,
    push: {
      fcmApiUrl: vars.FCM_API_URL,
      googleTokenUrl: vars.GOOGLE_TOKEN_URL,
      apnsApiUrl: vars.APNS_API_URL,
      vapidSubject: vars.VAPID_SUBJECT ?? vars.PUBLIC_URL,
    },
    slack: { apiUrl: vars.SLACK_API_URL, retryBaseSeconds: vars.SLACK_RETRY_BASE_SECONDS },
  };
}

const parsed = new WeakMap<Env, Config>();

export function config(env: Env): Config {
  let value = parsed.get(env);
  if (!value) {
    value = parse(env);
    parsed.set(env, value);
  }
  return value;
}
