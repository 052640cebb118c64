import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./context";
import { CORS_HEADERS, PREFLIGHT_HEADERS, sendsCors } from "./cors";
import { requestIdFor } from "./request-id";
import { setResponseHeaders } from "./response-headers";
import { missingSecurityHeaders } from "./security-headers";

/**
 * What every request gets before the routes and every response after them: the request id,
 * CORS (preflights answered here) and the security headers. One middleware rather than three:
 * each layer of Hono's chain costs every request its own dispatch.
 */
export const edge = createMiddleware<AppEnv>(async (c, next) => {
  const id = requestIdFor(c);
  c.set("requestId", id);
  const cors = sendsCors(c.req.path);
  if (c.req.method === "OPTIONS") {
    const preflight = new Response(null, { status: 204, headers: cors ? PREFLIGHT_HEADERS : [] });
    for (const [name, value] of [["X-Request-Id", id], ...missingSecurityHeaders(preflight.headers)]) preflight.headers.set(name, value);
    return preflight;
  }
  await next();
  const headers: [string, string][] = [["X-Request-Id", id]];
  // A WebSocket handshake's response carries the socket: it has no document to protect, and
  // browsers apply no CORS to it.
  if (c.res.status !== 101) headers.push(...(cors ? CORS_HEADERS : []), ...missingSecurityHeaders(c.res.headers));
  setResponseHeaders(c, headers);
});
