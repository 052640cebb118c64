import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Plain Node, not the workers plugin: these tests talk HTTP to a real `wrangler dev` that
// global-setup.ts starts, through the official smooch-core client.
export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    environment: "node",
    include: ["test/e2e/**/*.test.ts"],
    globalSetup: ["test/e2e/global-setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
