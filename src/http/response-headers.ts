import type { Context } from "hono";
import type { AppEnv } from "./context";

/**
 * Sets headers on the response a middleware's `next()` produced. In place when its headers are
 * mutable, as those of every response the routes build are; copying a response costs a post
 * about a tenth of its CPU. A response passed through from an object's fetch (realtime) has
 * immutable headers, and only that one is copied.
 */
export function setResponseHeaders(c: Context<AppEnv>, headers: [name: string, value: string][]): void {
  try {
    for (const [name, value] of headers) c.res.headers.set(name, value);
  } catch {
    const copy = new Response(c.res.body, c.res);
    for (const [name, value] of headers) copy.headers.set(name, value);
    c.res = copy;
  }
}
