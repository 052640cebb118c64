import type { Context } from "hono";
import type { AppEnv } from "./context";

/**
 * A static asset from the ASSETS binding, or the JSON 404. In production the asset server answers
 * asset paths before the worker runs; requests that do reach the worker (the tests call its fetch
 * handler directly) get the same file and headers from the binding.
 */
export async function serveAsset(c: Context<AppEnv>): Promise<Response> {
  const response = await c.env.ASSETS.fetch(c.req.raw);
  if (response.status !== 404) return response;
  await response.body?.cancel();
  return c.notFound();
}
