import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { validator } from "hono/validator";
import { z } from "zod";
import { ApiError, badRequest, ErrorCode } from "../errors";

/** One sentence naming the first offending field, e.g. "device.platform: Invalid option: ...". */
export function describeIssues(error: z.ZodError, where: string): string {
  const issue = error.issues[0];
  const path = issue.path.map(String).join(".");
  return `${path || where}: ${issue.message}`;
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw badRequest(describeIssues(result.error, where));
  return result.data;
}

/** The media types Hono's json validator parses itself (the same test as hono/validator's). */
const PARSED_BY_HONO = /^application\/([\w.-]+\+)?json$/i;

async function readJson(c: Context, parsedByHono: unknown): Promise<unknown> {
  const mediaType = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (PARSED_BY_HONO.test(mediaType)) return parsedByHono;
  // The app-wide 100 KB limit skips multipart (image uploads have their own): never read it here.
  if (mediaType.startsWith("multipart/")) {
    throw new ApiError(ErrorCode.UnsupportedMediaType, "content-type: this endpoint takes a JSON body, not multipart");
  }
  // Be lenient with clients that send JSON without saying so; an empty body is an empty object.
  const text = await c.req.text();
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest("body: Malformed JSON in request body");
  }
}

/** Validates the JSON body with a zod schema; handlers read it with `c.req.valid("json")`. */
export const jsonBody = <S extends z.ZodType>(schema: S) => {
  const validate = validator("json", async (value, c) => parseWith(schema, await readJson(c, value), "body") as z.output<S>);
  // Hono's own parse of an application/json body fails with a 400 that names no field.
  const middleware: typeof validate = async (c, next) => {
    let validated = false;
    try {
      return await validate(c, () => {
        validated = true;
        return next();
      });
    } catch (error) {
      if (!validated && error instanceof HTTPException && error.status === 400) throw badRequest(`body: ${error.message}`);
      throw error;
    }
  };
  return middleware;
};

export const queryParams = <S extends z.ZodType>(schema: S) =>
  validator("query", (value) => parseWith(schema, value, "query") as z.output<S>);
