import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Answers with JSON that is text already (src/lib/raw-json.ts), as `c.json` would with the value. */
export const jsonText = (c: Context, text: string, status: ContentfulStatusCode = 200) =>
  c.body(text, status, { "content-type": "application/json" });
