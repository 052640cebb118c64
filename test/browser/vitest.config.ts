import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Plain Node: the official Web Messenger (smooch 3.9.3 and 2.8.1, bundled at test time) in
// headless Debian Chromium driven by playwright-core, against the `wrangler dev` global-setup.ts
// starts. One file at a time: Chromium and two workerd processes share two cores.
export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    environment: "node",
    include: ["test/browser/**/*.test.ts"],
    globalSetup: ["test/browser/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
