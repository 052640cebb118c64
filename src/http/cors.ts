import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./context";
import { setResponseHeaders } from "./response-headers";

/**
 * CORS for any origin: the API is called from the pages of every app that embeds a messenger,
 * and it takes credentials in headers, never cookies. Answered headers are set once the route
 * has answered, on its response: Hono's own middleware sets them on a placeholder first, which
 * the real response then has to be copied over.
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

const EVERY_RESPONSE: [string, string][] = [
  ["access-control-allow-origin", "*"],
  ["access-control-expose-headers", "X-Request-Id"],
];

const PREFLIGHT: [string, string][] = [
  ...EVERY_RESPONSE,
  ["access-control-max-age", "86400"],
  ["access-control-allow-methods", "GET,POST,PUT,DELETE,OPTIONS"],
  ["access-control-allow-headers", ALLOWED_HEADERS],
];

export const cors = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.method === "OPTIONS") return new Response(null, { status: 204, headers: PREFLIGHT });
  await next();
  // A WebSocket handshake's response carries the socket, and browsers apply no CORS to it.
  if (c.res.status !== 101) setResponseHeaders(c, EVERY_RESPONSE);
});
