import type { Context } from "hono";
import type { AppEnv } from "./context";

/** Ids a caller may choose: short, printable, and safe to echo into a header and a log line. */
const WELL_FORMED = /^[A-Za-z0-9._:@+=/-]{1,128}$/;

/**
 * The request's id: the caller's own X-Request-Id when it is well formed (so a client's or
 * proxy's trace continues) and a new one otherwise. Every response answers with it.
 */
export function requestIdFor(c: Context<AppEnv>): string {
  const incoming = c.req.header("x-request-id");
  return incoming && WELL_FORMED.test(incoming) ? incoming : crypto.randomUUID();
}
