import { isLiveUser } from "../db/app-users";
import { ApiError, ErrorCode, notFound } from "../errors";
import { mediaTypeOfKey } from "./sniff";

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

/** Opened directly, an uploaded file is an inert document: no script, no plugin, no same-origin access. */
const INERT = "default-src 'none'; sandbox";

type ByteRange = { offset: number; length: number };

/**
 * A `Range` header read as RFC 9110 §14.2 says: a single `bytes` range, or `null` for one to
 * ignore (absent, malformed, another unit, several ranges: the whole body is the answer), or
 * "unsatisfiable" when it is well formed but selects no byte of the object.
 */
function parseRange(header: string | null, size: number): ByteRange | "unsatisfiable" | null {
  const match = header === null ? null : /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match || (match[1] === "" && match[2] === "")) return null;
  const [first, last] = [match[1] === "" ? null : Number(match[1]), match[2] === "" ? null : Number(match[2])];
  if (first === null) {
    if (last === 0) return "unsatisfiable";
    const length = Math.min(last!, size);
    return { offset: size - length, length };
  }
  if (last !== null && last < first) return null;
  if (first >= size) return "unsatisfiable";
  return { offset: first, length: Math.min(last ?? size - 1, size - 1) - first + 1 };
}

/** Whether an If-Match or If-None-Match list names the ETag: `*`, or a tag compared strongly or weakly. */
function listMatches(header: string, etag: string, weak: boolean): boolean {
  const opaque = (tag: string) => tag.replace(/^W\//, "");
  return header.split(",").some((raw) => {
    const tag = raw.trim();
    if (tag === "*") return true;
    if (!weak && (tag.startsWith("W/") || etag.startsWith("W/"))) return false;
    return opaque(tag) === opaque(etag);
  });
}

/** HTTP dates have whole seconds. */
const uploadedSecond = (head: R2Object) => Math.floor(head.uploaded.getTime() / 1000) * 1000;

/** If-Unmodified-Since (used without If-Match): a valid date before the upload fails. */
function changedSince(header: string | null, head: R2Object): boolean {
  const since = header === null ? NaN : Date.parse(header);
  return !Number.isNaN(since) && uploadedSecond(head) > since;
}

/** If-Modified-Since (used without If-None-Match): a valid date at or after the upload means the copy is current. */
function unchangedSince(header: string | null, head: R2Object): boolean {
  const since = header === null ? NaN : Date.parse(header);
  return !Number.isNaN(since) && uploadedSecond(head) <= since;
}

/**
 * Answers a request for an uploaded image from R2, by HTTP's rules (RFC 9110 §13.2.2): a failed
 * If-Match is 412, a matching If-None-Match 304, then a single byte range is 206, an
 * unsatisfiable one 416, and a malformed one is ignored. The type is the one sniffed at upload
 * (the key's extension), never what else the stored object says; nothing in it can run. 404
 * once the image, its uploader or its app is deleted.
 */
export async function serveMedia(env: Env, key: string, headers: Headers): Promise<Response> {
  // R2 refuses names it could never hold (over 1024 bytes, say): no such object.
  const head = await env.MEDIA.head(key).catch(() => null);
  if (!head || !(await ownerExists(env, head))) throw notFound(`media: no object '${key}'`);

  const response = new Headers({
    etag: head.httpEtag,
    "last-modified": head.uploaded.toUTCString(),
    "cache-control": REVALIDATE,
    "content-type": mediaTypeOfKey(key),
    "x-content-type-options": "nosniff",
    "content-security-policy": INERT,
    "accept-ranges": "bytes",
  });
  const ifMatch = headers.get("if-match");
  if (ifMatch !== null ? !listMatches(ifMatch, head.httpEtag, false) : changedSince(headers.get("if-unmodified-since"), head)) {
    throw new ApiError(ErrorCode.PreconditionFailed, "if-match: the image's ETag is not among those given");
  }
  const ifNoneMatch = headers.get("if-none-match");
  const current = ifNoneMatch !== null ? listMatches(ifNoneMatch, head.httpEtag, true) : unchangedSince(headers.get("if-modified-since"), head);
  if (current) {
    response.delete("content-type");
    return new Response(null, { status: 304, headers: response });
  }

  // If-Range: the range holds only for the copy the client has (a strong ETag or its date).
  const ifRange = headers.get("if-range");
  const rangeHolds = ifRange === null || ifRange.trim() === head.httpEtag || ifRange.trim() === head.uploaded.toUTCString();
  const range = rangeHolds ? parseRange(headers.get("range"), head.size) : null;
  if (range === "unsatisfiable") {
    throw new ApiError(ErrorCode.RangeNotSatisfiable, "range: selects no byte of the image", {
      "content-range": `bytes */${head.size}`,
    });
  }
  const object = await env.MEDIA.get(key, range ? { range } : {});
  if (!object) throw notFound(`media: no object '${key}'`);
  if (range) {
    response.set("content-range", `bytes ${range.offset}-${range.offset + range.length - 1}/${head.size}`);
    response.set("content-length", String(range.length));
    return new Response(object.body, { status: 206, headers: response });
  }
  response.set("content-length", String(head.size));
  return new Response(object.body, { status: 200, headers: response });
}
