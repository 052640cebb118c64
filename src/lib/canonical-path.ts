/** Collections whose next path segment is an id, and so keeps its case. */
const ID_FOLLOWS = new Set(["apps", "appusers", "keys", "devices", "webhooks", "whispers", "media"]);

/**
 * The request path with its fixed segments lowercased, so that `/v1/appUsers/...` (smooch-core
 * 1.x) and `/v1/appusers/...` reach the same route while ids such as userIds keep their case.
 */
export function canonicalPath(request: Request): string {
  const url = request.url;
  const start = url.indexOf("/", url.indexOf("://") + 3);
  const queryAt = url.indexOf("?", start);
  const path = queryAt === -1 ? url.slice(start) : url.slice(start, queryAt);
  // Most paths are lowercase already (a parsed URL holds no other letters than ASCII ones).
  if (!/[A-Z]/.test(path)) return path;
  const segments = path.split("/");
  // An id is never itself a collection name: after /appusers/Keys comes a fixed segment again.
  let previousIsId = false;
  return segments
    .map((segment, i) => {
      previousIsId = i > 0 && !previousIsId && ID_FOLLOWS.has(segments[i - 1].toLowerCase());
      return previousIsId ? segment : segment.toLowerCase();
    })
    .join("/");
}
