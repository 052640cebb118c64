import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { config, ConfigError } from "../../src/config";

const withVars = (vars: Record<string, string | undefined>) => ({ ...env, ...vars }) as Env;

describe("config", () => {
  it("reads every variable once, with wrangler.toml's values", () => {
    expect(config(env)).toEqual({
      account: { keyId: env.ACCOUNT_KEY_ID, secret: env.ACCOUNT_SECRET },
      authCacheSeconds: 5,
      mediaMaxBytes: 10485760,
      publicUrl: null,
      webhookRetryBaseSeconds: 10,
      pushRetryBaseSeconds: 10,
      webhookBatchBudgetSeconds: 30,
      webhookAllowPrivateTargets: false,
      demoEnabled: false,
      demoSecret: null,
      deliveryLogKeep: 1000,
      deliveryLogDays: 30,
      realtimeMaxSubscribers: 100,
      realtimeSocketMaxSeconds: 86400,
      access: null,
      // The worker tests' own (vitest.config.ts); wrangler.toml leaves it empty.
      emailDomain: "mail.parley.test",
      emailRetryBaseSeconds: 10,
      push: {
        fcmApiUrl: "https://fcm.googleapis.com",
        googleTokenUrl: "https://oauth2.googleapis.com/token",
        apnsApiUrl: null,
        vapidSubject: null,
      },
      slack: { apiUrl: "https://slack.com/api", retryBaseSeconds: 5 },
    });
    expect(config(env)).toBe(config(env));
  });

  it("falls back to the documented defaults for empty variables", () => {
    const parsed = config(withVars({ AUTH_CACHE_SECONDS: "", MEDIA_MAX_BYTES: "", WEBHOOK_RETRY_BASE_SECONDS: "", PUSH_RETRY_BASE_SECONDS: "", WEBHOOK_ALLOW_PRIVATE_TARGETS: "", DELIVERY_LOG_KEEP: "", DELIVERY_LOG_DAYS: "", REALTIME_MAX_SUBSCRIBERS: "", REALTIME_SOCKET_MAX_SECONDS: "" }));
    expect(parsed).toMatchObject({ authCacheSeconds: 5, mediaMaxBytes: 10485760, webhookRetryBaseSeconds: 10, pushRetryBaseSeconds: 10, webhookAllowPrivateTargets: false, deliveryLogKeep: 1000, deliveryLogDays: 30, realtimeMaxSubscribers: 100, realtimeSocketMaxSeconds: 86400 });
  });

  it("normalises PUBLIC_URL and treats a missing account key as no account API", () => {
    const parsed = config(withVars({ PUBLIC_URL: "https://chat.example.com/", ACCOUNT_SECRET: "" }));
    expect(parsed.publicUrl).toBe("https://chat.example.com");
    expect(parsed.account).toBeNull();
    expect(config(withVars({ WEBHOOK_ALLOW_PRIVATE_TARGETS: "true" })).webhookAllowPrivateTargets).toBe(true);
    expect(config(withVars({ DEMO_ENABLED: "true" })).demoEnabled).toBe(true);
  });

  it("takes Cloudflare Access's team domain and audience together, or neither", () => {
    expect(config(withVars({})).access).toBeNull();
    expect(config(withVars({ ACCESS_TEAM_DOMAIN: "https://team.cloudflareaccess.com/", ACCESS_AUD: " tag " })).access).toEqual({
      teamDomain: "https://team.cloudflareaccess.com",
      audience: "tag",
    });
    expect(() => config(withVars({ ACCESS_TEAM_DOMAIN: "https://team.cloudflareaccess.com" }))).toThrow(/ACCESS_AUD/);
    expect(() => config(withVars({ ACCESS_AUD: "tag" }))).toThrow(/ACCESS_TEAM_DOMAIN/);
    expect(() => config(withVars({ ACCESS_TEAM_DOMAIN: "team", ACCESS_AUD: "tag" }))).toThrow(/ACCESS_TEAM_DOMAIN/);
  });

  it("replaces the push providers' endpoints when set, and takes the VAPID contact from PUBLIC_URL unless given", () => {
    const parsed = config(
      withVars({ FCM_API_URL: "http://127.0.0.1:9000/", GOOGLE_TOKEN_URL: "http://127.0.0.1:9001/token", APNS_API_URL: "http://127.0.0.1:9002", PUBLIC_URL: "https://chat.example.com" }),
    );
    expect(parsed.push).toEqual({
      fcmApiUrl: "http://127.0.0.1:9000",
      googleTokenUrl: "http://127.0.0.1:9001/token",
      apnsApiUrl: "http://127.0.0.1:9002",
      vapidSubject: "https://chat.example.com",
    });
    expect(config(withVars({ VAPID_SUBJECT: "mailto:ops@example.com" })).push.vapidSubject).toBe("mailto:ops@example.com");
  });

  it("points the Slack client at SLACK_API_URL when set, Slack's own API otherwise", () => {
    expect(config(withVars({ SLACK_API_URL: "http://127.0.0.1:9003/api/" })).slack.apiUrl).toBe("http://127.0.0.1:9003/api");
    expect(config(withVars({ SLACK_API_URL: "", SLACK_RETRY_BASE_SECONDS: "" })).slack).toEqual({ apiUrl: "https://slack.com/api", retryBaseSeconds: 5 });
  });

  it.each([
    ["AUTH_CACHE_SECONDS", "thirty"],
    ["AUTH_CACHE_SECONDS", "-1"],
    ["AUTH_CACHE_SECONDS", "6"],
    ["AUTH_CACHE_SECONDS", "30"],
    ["MEDIA_MAX_BYTES", "0"],
    ["MEDIA_MAX_BYTES", "1.5"],
    ["WEBHOOK_RETRY_BASE_SECONDS", "ten"],
    ["PUSH_RETRY_BASE_SECONDS", "0"],
    ["WEBHOOK_BATCH_BUDGET_SECONDS", "0"],
    ["WEBHOOK_ALLOW_PRIVATE_TARGETS", "yes"],
    ["PUBLIC_URL", "chat.example.com"],
    ["PUBLIC_URL", "ftp://example.com"],
    ["FCM_API_URL", "fcm.googleapis.com"],
    ["GOOGLE_TOKEN_URL", "ftp://example.com/token"],
    ["APNS_API_URL", "api.push.apple.com"],
    ["VAPID_SUBJECT", "ops@example.com"],
    ["SLACK_API_URL", "slack.com/api"],
    ["SLACK_RETRY_BASE_SECONDS", "0"],
    ["REALTIME_MAX_SUBSCRIBERS", "0"],
    ["REALTIME_SOCKET_MAX_SECONDS", "59"],
  ])("refuses %s=%j with an error naming the variable", (name, value) => {
    expect(() => config(withVars({ [name]: value }))).toThrow(ConfigError);
    expect(() => config(withVars({ [name]: value }))).toThrow(new RegExp(`^configuration: ${name} `));
  });

  it("takes EMAIL_DOMAIN as a lowercase domain name, empty for none, and refuses anything else", () => {
    expect(config(withVars({ EMAIL_DOMAIN: "Mail.Example.COM" })).emailDomain).toBe("mail.example.com");
    expect(config(withVars({ EMAIL_DOMAIN: "" })).emailDomain).toBeNull();
    for (const bad of ["not a domain", "mail@example.com", "https://example.com", "example"]) {
      expect(() => config(withVars({ EMAIL_DOMAIN: bad }))).toThrow(/EMAIL_DOMAIN/);
    }
    expect(() => config(withVars({ EMAIL_RETRY_BASE_SECONDS: "0" }))).toThrow(/EMAIL_RETRY_BASE_SECONDS/);
  });
});
