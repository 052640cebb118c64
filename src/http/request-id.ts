import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./context";
import { setResponseHeaders } from "./response-headers";

/** Ids a caller may choose: short, printable, and safe to echo into a header and a log line. */
const WELL_FORMED = /^[A-Za-z0-9._:@+=/-]{1,128}$/;

/**
 * Gives every request an id, the caller's own X-Request-Id when it is well formed (so a
 * client's or proxy's trace continues) and a new one otherwise, and answers with it.
 */
export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  const incoming = c.req.header("x-request-id");
  const id = incoming && WELL_FORMED.test(incoming) ? incoming : crypto.randomUUID();
  c.set("requestId", id);
  await next();
  setResponseHeaders(c, [["X-Request-Id", id]]);
});
