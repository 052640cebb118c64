import type { Credential } from "../auth/credential";
import { config } from "../config";
import type { MessageInput } from "../conversation/compose";
import { postMessage } from "../conversation/post";
import { assertMayActAs } from "../conversation/role";
import type { AppUser } from "../db/app-users";
import { ApiError, badRequest, ErrorCode } from "../errors";
import { newId } from "../lib/ids";
import { SNIFF_BYTES, sniffImage, type ImageType } from "./sniff";

export const imageTooLarge = (env: Env) =>
  new ApiError(ErrorCode.PayloadTooLarge, `source: images are limited to ${config(env).mediaMaxBytes} bytes`);

/** Stores a sniffed image of the user's conversation in R2; its key, and the URL it is served at. */
export async function storeImage(
  env: Env,
  user: AppUser,
  body: ReadableStream | ArrayBuffer | Uint8Array,
  image: ImageType,
  origin: string,
): Promise<{ key: string; mediaUrl: string }> {
  // Unguessable: 192 random bits. The URL is the only access control on the bytes.
  const key = `${newId()}${newId()}.${image.extension}`;
  await env.MEDIA.put(key, body, {
    httpMetadata: { contentType: image.mediaType },
    customMetadata: { appId: user.appId, appUserId: user.id },
  });
  return { key, mediaUrl: `${config(env).publicUrl ?? origin}/v1/media/${key}` };
}

/**
 * Stores an uploaded image in R2 and posts it as a message. The bytes decide the type, never
 * the name or the declared type; the object is deleted again if the post fails, so no object
 * is left that no message points to.
 */
export async function postImage(
  env: Env,
  credential: Credential,
  user: AppUser,
  source: unknown,
  /** The form's other fields, validated only once the file itself is known to be an image. */
  readInput: () => Omit<MessageInput, "mediaUrl" | "mediaType">,
  requestOrigin: string,
) {
  if (!(source instanceof File)) throw badRequest("source: an image file is required");
  if (source.size === 0) throw badRequest("source: the file is empty");
  if (source.size > config(env).mediaMaxBytes) throw imageTooLarge(env);
  const image = sniffImage(new Uint8Array(await source.slice(0, SNIFF_BYTES).arrayBuffer()));
  if (!image) throw new ApiError(ErrorCode.UnsupportedMediaType, "source: not a JPEG, PNG, GIF or WebP image");
  const input = readInput();
  assertMayActAs(credential, input.role, "posting");

  const { key, mediaUrl } = await storeImage(env, user, source.stream(), image, requestOrigin);
  try {
    return await postMessage(env, credential, user, { ...input, mediaUrl, mediaType: image.mediaType });
  } catch (error) {
    await env.MEDIA.delete(key);
    throw error;
  }
}
