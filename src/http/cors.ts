/**
 * CORS for any origin: the API is called from the pages of every app that embeds a messenger,
 * and it takes credentials in headers, never cookies. Set by src/http/edge.ts once the route has
 * answered, on its response: Hono's own middleware sets them on a placeholder first, which the
 * real response then has to be copied over.
 */
const ALLOWED_HEADERS = [
  "app-token",
  "authorization",
  "content-type",
  "x-request-id",
  // The Smooch web messenger sends it on every call (without it its first preflight fails).
  "x-smooch-sdk",
  // Faye's long-polling requests carry them.
  "pragma",
  "x-requested-with",
].join(",");

/** What every answer but a preflight's carries. */
export const CORS_HEADERS: [string, string][] = [
  ["access-control-allow-origin", "*"],
  ["access-control-expose-headers", "X-Request-Id"],
];

/** The answer to any OPTIONS request. */
export const PREFLIGHT_HEADERS: [string, string][] = [
  ...CORS_HEADERS,
  ["access-control-max-age", "86400"],
  ["access-control-allow-methods", "GET,POST,PUT,DELETE,OPTIONS"],
  ["access-control-allow-headers", ALLOWED_HEADERS],
];

/**
 * The demo (src/demo/) is for its own page only: any other page open in a developer's browser
 * could otherwise read the demo app's token from their local worker.
 */
export const sendsCors = (path: string) => path !== "/demo" && !path.startsWith("/demo/");
