import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../../context";
import { ApiError, ErrorCode, badRequest } from "../../errors";
import { newId } from "../../lib/ids";
import { parseWith } from "../../lib/validate";
import { SNIFF_BYTES, sniffImage } from "../../media/sniff";
import { appUserAccess } from "../chains";
import { assertMayPostAs, postMessage } from "../conversation/routes";
import { imageFormFields } from "./schemas";

export const imagesRoutes = new Hono<AppEnv>();

const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
/** Room for the multipart boundaries and the other form fields around the file. */
const FORM_OVERHEAD_BYTES = 64 * 1024;

const maxImageBytes = (env: Env) => Number(env.MEDIA_MAX_BYTES) || DEFAULT_MAX_BYTES;

const tooLarge = (env: Env) =>
  new ApiError(ErrorCode.PayloadTooLarge, `source: images are limited to ${maxImageBytes(env)} bytes`);

/** Refuses an oversize upload from its headers or while streaming, before anything is stored. */
const uploadLimit = (env: Env) =>
  bodyLimit({
    maxSize: maxImageBytes(env) + FORM_OVERHEAD_BYTES,
    onError: () => {
      throw tooLarge(env);
    },
  });

async function readForm(request: Request): Promise<FormData> {
  if (!request.headers.get("content-type")?.toLowerCase().startsWith("multipart/form-data")) {
    throw badRequest("body: must be multipart/form-data with the image in 'source'");
  }
  try {
    return await request.formData();
  } catch {
    throw badRequest("body: malformed multipart/form-data");
  }
}

const mediaUrlBase = (env: Env, requestUrl: string) =>
  (env.PUBLIC_URL || new URL(requestUrl).origin).replace(/\/+$/, "");

for (const path of ["/appusers/:appUserId/conversation/images", "/appusers/:appUserId/images"]) {
  imagesRoutes.post(path, ...appUserAccess, (c, next) => uploadLimit(c.env)(c, next), async (c) => {
    const form = await readForm(c.req.raw);
    const source = form.get("source");
    if (!(source instanceof File)) throw badRequest("source: an image file is required");
    if (source.size === 0) throw badRequest("source: the file is empty");
    if (source.size > maxImageBytes(c.env)) throw tooLarge(c.env);
    const image = sniffImage(new Uint8Array(await source.slice(0, SNIFF_BYTES).arrayBuffer()));
    if (!image) {
      throw new ApiError(ErrorCode.UnsupportedMediaType, "source: not a JPEG, PNG, GIF or WebP image");
    }
    const fields = Object.fromEntries([...form.entries()].filter(([name, value]) => name !== "source" && typeof value === "string"));
    const input = parseWith(imageFormFields, fields, "form");
    assertMayPostAs(c.get("credential"), input.role);

    // Unguessable: 192 random bits. The URL is the only access control on the bytes.
    const key = `${newId()}${newId()}.${image.extension}`;
    const user = c.get("appUser");
    await c.env.MEDIA.put(key, source.stream(), {
      httpMetadata: { contentType: image.mediaType },
      customMetadata: { appId: user.appId, appUserId: user.id },
    });
    const mediaUrl = `${mediaUrlBase(c.env, c.req.url)}/v1/media/${key}`;
    try {
      return await postMessage(c, { ...input, mediaUrl, mediaType: image.mediaType });
    } catch (error) {
      // Never leave an object that no message points to.
      await c.env.MEDIA.delete(key);
      throw error;
    }
  });
}
