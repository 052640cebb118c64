import type { Context } from "hono";
import { validator } from "hono/validator";
import { z } from "zod";
import { badRequest } from "../errors";

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

async function readJson(c: Context, parsedByHono: unknown): Promise<unknown> {
  if (c.req.header("content-type")?.toLowerCase().includes("json")) return parsedByHono;
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
export const jsonBody = <S extends z.ZodType>(schema: S) =>
  validator("json", async (value, c) => parseWith(schema, await readJson(c, value), "body") as z.output<S>);

export const queryParams = <S extends z.ZodType>(schema: S) =>
  validator("query", (value) => parseWith(schema, value, "query") as z.output<S>);
