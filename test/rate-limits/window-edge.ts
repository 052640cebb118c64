// The local rate-limiting binding counts in windows aligned to the wall clock (miniflare's
// RateLimiterObject), so a test that spends a budget across a window's edge finds it refilled
// halfway: each test starts at least MARGIN_MS before the next edge.
import { beforeEach } from "vitest";

const PERIOD_MS = 60_000;
const MARGIN_MS = 10_000;

// The wait is up to MARGIN_MS: the hook's own timeout must outlast it (vitest's default is 10 s).
beforeEach(async () => {
  const left = PERIOD_MS - (Date.now() % PERIOD_MS);
  if (left < MARGIN_MS) await new Promise((resolve) => setTimeout(resolve, left + 100));
}, MARGIN_MS + 5_000);
