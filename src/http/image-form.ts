import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { config } from "../config";
import { badRequest } from "../errors";
import { imageTooLarge } from "../media/upload";

/** Room for the multipart boundaries and the other form fields around the file. */
const FORM_OVERHEAD_BYTES = 64 * 1024;

/** Refuses an oversize upload from its headers or while streaming, before anything is stored. */
export const imageUploadLimit: MiddlewareHandler<{ Bindings: Env }> = (c, next) =>
  bodyLimit({
    maxSize: config(c.env).mediaMaxBytes + FORM_OVERHEAD_BYTES,
    onError: () => {
      throw imageTooLarge(c.env);
    },
  })(c, next);

/** An image upload's form (the image in `source`, as POST /v1/appusers/{id}/images takes it). */
export async function readImageForm(request: Request): Promise<FormData> {
  if (!request.headers.get("content-type")?.toLowerCase().startsWith("multipart/form-data")) {
    throw badRequest("body: must be multipart/form-data with the image in 'source'");
  }
  try {
    return await request.formData();
  } catch {
    throw badRequest("body: malformed multipart/form-data");
  }
}
