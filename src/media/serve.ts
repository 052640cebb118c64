import { isLiveUser } from "../db/app-users";
import { ApiError, ErrorCode, notFound } from "../errors";

/**
 * Caches may keep a copy but must ask again before each use (a 304 when it is current): an
 * erased image answers 404 at once, never after a cache lifetime.
 */
const REVALIDATE = "public, no-cache";

/** An image is served only while the user who uploaded it, and their app, exist. */
async function ownerExists(env: Env, object: R2Object): Promise<boolean> {
  const { appId, appUserId } = object.customMetadata ?? {};
  return !appId || !appUserId || isLiveUser(env.DB, appId, appUserId);
}

function byteRange(range: R2Range, size: number): { offset: number; length: number } {
  // The runtime's R2Range carries all three keys, unset ones as undefined.
  if ("suffix" in range && range.suffix !== undefined) {
    const length = Math.min(range.suffix, size);
    return { offset: size - length, length };
  }
  const { offset = 0, length = size - offset } = range as { offset?: number; length?: number };
  return { offset, length };
}

/**
 * Answers a request for an uploaded image from R2: ETag and revalidated caching, If-None-Match
 * (304) and single byte ranges (206, or 416 past the end). 404 once the image, its uploader or
 * its app is deleted.
 */
export async function serveMedia(env: Env, key: string, headers: Headers): Promise<Response> {
  let object: R2Object | R2ObjectBody | null;
  try {
    object = await env.MEDIA.get(key, { range: headers, onlyIf: headers });
  } catch {
    // R2 refuses names it could never hold (over 1024 bytes, say) in head() too: no such object.
    const head = await env.MEDIA.head(key).catch(() => null);
    if (!head) throw notFound(`media: no object '${key}'`);
    throw new ApiError(ErrorCode.RangeNotSatisfiable, "range: not satisfiable", { "content-range": `bytes */${head.size}` });
  }
  if (!object || !(await ownerExists(env, object))) {
    if (object && "body" in object) await object.body.cancel();
    throw notFound(`media: no object '${key}'`);
  }

  const response = new Headers({
    etag: object.httpEtag,
    "cache-control": REVALIDATE,
    "x-content-type-options": "nosniff",
    "accept-ranges": "bytes",
  });
  object.writeHttpMetadata(response);
  // A failed precondition (If-None-Match matched) leaves no body: the client's copy is current.
  if (!("body" in object)) return new Response(null, { status: 304, headers: response });

  // Not every R2 refuses a range that starts past the end (the local one clamps it): check here.
  const start = /^bytes=(\d+)-/.exec(headers.get("range") ?? "");
  if (start && Number(start[1]) >= object.size) {
    await object.body.cancel();
    throw new ApiError(ErrorCode.RangeNotSatisfiable, "range: starts past the end of the object", {
      "content-range": `bytes */${object.size}`,
    });
  }
  if (headers.has("range") && object.range) {
    const { offset, length } = byteRange(object.range, object.size);
    response.set("content-range", `bytes ${offset}-${offset + length - 1}/${object.size}`);
    response.set("content-length", String(length));
    return new Response(object.body, { status: 206, headers: response });
  }
  response.set("content-length", String(object.size));
  return new Response(object.body, { status: 200, headers: response });
}
