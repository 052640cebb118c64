import type { Context, MiddlewareHandler } from "hono";
import { validator } from "hono/validator";
import { z } from "zod";
import { ApiError, badRequest, ErrorCode } from "../errors";
import type { AppEnv } from "./context";
import { documented } from "./openapi";

/** One sentence naming the first offending field, e.g. "device.platform: Invalid option: ...". */
export function describeIssues(error: z.ZodError, where: string): string {
  const issue = error.issues[0];
  const path = issue.path.map(String).join(".");
  return `${path || where}: ${issue.message}`;
}

/** Parses with a schema; a failure is the one 400 shape, naming the field. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw badRequest(describeIssues(result.error, where));
  return result.data;
}

/** Deeper JSON is refused before it is parsed: no request body needs more, and each level costs stack. */
export const JSON_MAX_DEPTH = 32;

/** Whether `text` opens more than `max` arrays or objects at once (brackets inside strings do not count). */
function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c /* \ */) i++;
      else if (ch === 0x22 /* " */) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b /* [ */ || ch === 0x7b /* { */) {
      if (++depth > max) return true;
    } else if (ch === 0x5d /* ] */ || ch === 0x7d /* } */) depth--;
  }
  return false;
}

/**
 * The body as JSON, whatever content type the client claims: the contract asks clients for
 * application/json, and being lenient costs nothing. An empty body is an empty object.
 */
async function readJson(c: Context): Promise<unknown> {
  // The app-wide 100 KB limit skips multipart (image uploads have their own): never read it here.
  if (c.req.header("content-type")?.trim().toLowerCase().startsWith("multipart/")) {
    throw new ApiError(ErrorCode.UnsupportedMediaType, "content-type: this endpoint takes a JSON body, not multipart");
  }
  const text = await c.req.text();
  if (text.trim() === "") return {};
  if (nestedDeeperThan(text, JSON_MAX_DEPTH)) throw badRequest(`body: nested deeper than ${JSON_MAX_DEPTH} levels`);
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest("body: malformed JSON");
  }
}

/** Validates the JSON body with a zod schema; handlers read it with `c.req.valid("json")`. */
export const jsonBody = <S extends z.ZodType>(
  schema: S,
): MiddlewareHandler<AppEnv, string, { in: { json: z.input<S> }; out: { json: z.output<S> } }> =>
  documented(
    async (c, next) => {
      c.req.addValidatedData("json", parseWith(schema, await readJson(c), "body") as object);
      await next();
    },
    { body: schema },
  );

/** Validates the query string; handlers read it with `c.req.valid("query")`. */
export const queryParams = <S extends z.ZodType>(schema: S) =>
  documented(
    validator("query", (value) => parseWith(schema, value, "query") as z.output<S>),
    { query: schema },
  );
