import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./context";
import { setResponseHeaders } from "./response-headers";

/**
 * What every response tells the browser, unless the route said otherwise (the docs page and
 * media have policies of their own): never sniff a type, never send this URL on as a referrer,
 * and, for the JSON and scripts this API answers with, load nothing and be framed by nobody.
 */
const DEFAULTS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
};

export const securityHeaders = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  // A WebSocket handshake's response carries the socket; it has no document to protect.
  if (c.res.status === 101) return;
  const missing = Object.entries(DEFAULTS).filter(([name]) => !c.res.headers.has(name));
  if (missing.length > 0) setResponseHeaders(c, missing);
});
