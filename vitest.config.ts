import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

const migrations = await readD1Migrations("./migrations");

/** The worker as wrangler.toml declares it, with test secrets and any overrides. */
const worker = (miniflare: Record<string, unknown> = {}) =>
  cloudflareTest({
    wrangler: { configPath: "./wrangler.toml" },
    miniflare: {
      bindings: {
        ACCOUNT_KEY_ID: "test-account-key",
        ACCOUNT_SECRET: "test-account-secret-0123456789abcdef",
        TEST_MIGRATIONS: migrations,
        EMAIL_DOMAIN: "mail.parley.test",
      },
      ...miniflare,
    },
  });

// The worker and rate-limits tests run inside workerd against real D1, Durable Objects, R2 and
// Queues; the messenger and architecture tests run on plain Node.
export default defineConfig({
  test: {
    projects: [
      {
        // The worker suites send thousands of refused credentials from one address: the failure
        // budget is tested in the rate-limits project, with production's numbers.
        plugins: [
          worker({
            ratelimits: {
              RATE_LIMITER: { namespace_id: "1001", simple: { limit: 300, period: 60 } },
              SERVER_RATE_LIMITER: { namespace_id: "1002", simple: { limit: 3000, period: 60 } },
              AUTH_FAILURE_LIMITER: { namespace_id: "1003", simple: { limit: 1_000_000, period: 60 } },
              APP_RATE_LIMITER: { namespace_id: "1004", simple: { limit: 1_000_000, period: 60 } },
              REALTIME_LIMITER: { namespace_id: "1005", simple: { limit: 1_000_000, period: 60 } },
            },
          }),
        ],
        test: {
          name: "worker",
          include: ["test/worker/**/*.test.ts"],
          setupFiles: ["./test/worker/support/apply-migrations.ts"],
          testTimeout: 30_000,
        },
      },
      {
        // Budgets small enough to exhaust in a test; production's are in wrangler.toml.
        plugins: [
          worker({
            ratelimits: {
              RATE_LIMITER: { namespace_id: "1001", simple: { limit: 3, period: 60 } },
              SERVER_RATE_LIMITER: { namespace_id: "1002", simple: { limit: 20, period: 60 } },
              AUTH_FAILURE_LIMITER: { namespace_id: "1003", simple: { limit: 20, period: 60 } },
              APP_RATE_LIMITER: { namespace_id: "1004", simple: { limit: 6, period: 60 } },
              REALTIME_LIMITER: { namespace_id: "1005", simple: { limit: 4, period: 60 } },
            },
          }),
        ],
        test: {
          name: "rate-limits",
          include: ["test/rate-limits/**/*.test.ts"],
          setupFiles: ["./test/worker/support/apply-migrations.ts", "./test/rate-limits/window-edge.ts"],
          testTimeout: 30_000,
        },
      },
      {
        // The browser code (src/browser/): the messenger's state logic, its bundle and the Desk's, on Node.
        test: {
          name: "messenger",
          environment: "node",
          include: ["test/messenger/**/*.test.ts"],
        },
      },
      {
        // The import check: layers and cycles of src/ (test/architecture/imports.ts).
        test: {
          name: "architecture",
          environment: "node",
          include: ["test/architecture/**/*.test.ts"],
        },
      },
    ],
  },
});
