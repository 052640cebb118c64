import deskScript from "../static/desk.txt";
import messengerScript from "../static/messenger.txt";
import scalarGzipped from "../static/scalar.bin";

/**
 * A file of the worker's own bundle (built by src/cli/build-assets.ts), with the validator and
 * the headers a static file server would give it.
 */
export interface StaticFile {
  /** The file's bytes: as served, or gzipped when `gzipped` is set. */
  body: string | ArrayBuffer;
  gzipped?: boolean;
  headers: Record<string, string>;
}

const JAVASCRIPT = "text/javascript; charset=utf-8";

export const MESSENGER_SCRIPT: StaticFile = { body: messengerScript, headers: { "content-type": JAVASCRIPT } };
export const DESK_SCRIPT: StaticFile = { body: deskScript, headers: { "content-type": JAVASCRIPT } };
export const SCALAR_SCRIPT: StaticFile = {
  body: scalarGzipped,
  gzipped: true,
  headers: { "content-type": JAVASCRIPT, "cache-control": "public, max-age=3600" },
};

/** Each file's ETag, computed once per isolate. */
const etags = new WeakMap<StaticFile, Promise<string>>();

function etagOf(file: StaticFile): Promise<string> {
  let etag = etags.get(file);
  if (!etag) etags.set(file, (etag = digestOf(file)));
  return etag;
}

async function digestOf(file: StaticFile): Promise<string> {
  const bytes = typeof file.body === "string" ? new TextEncoder().encode(file.body) : file.body;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return `"${Array.from(digest.subarray(0, 16), (byte) => byte.toString(16).padStart(2, "0")).join("")}"`;
}

/** If-None-Match names this ETag: a list, `*`, or a weak form (the edge weakens ETags it recompresses). */
const matches = (ifNoneMatch: string, etag: string) =>
  ifNoneMatch.split(",").some((tag) => {
    const trimmed = tag.trim();
    return trimmed === "*" || trimmed.replace(/^W\//, "") === etag;
  });

/** The q-value Accept-Encoding gives `coding` (or, when it does not name it, `*`); 0 when neither. */
function quality(acceptEncoding: string, coding: string): number {
  const given = new Map(
    acceptEncoding.split(",").map((part) => {
      const [name, ...params] = part.split(";").map((piece) => piece.trim().toLowerCase());
      const q = params.find((param) => param.startsWith("q="));
      return [name, q === undefined ? 1 : Number(q.slice(2)) || 0] as const;
    }),
  );
  return given.get(coding) ?? given.get("*") ?? 0;
}

/**
 * The file as a response to `request`: 304 when its If-None-Match names the file's ETag, gzipped
 * bytes as they are when the client takes them, `extra` headers over the file's own.
 */
export async function serveStaticFile(request: Request, file: StaticFile, extra: Record<string, string> = {}): Promise<Response> {
  const etag = await etagOf(file);
  const headers = new Headers({ ...file.headers, ...extra, etag });
  if (file.gzipped) headers.set("vary", "accept-encoding");
  const ifNoneMatch = request.headers.get("if-none-match");
  if (ifNoneMatch !== null && matches(ifNoneMatch, etag)) return new Response(null, { status: 304, headers });
  if (!file.gzipped) return new Response(file.body, { headers });
  if (quality(request.headers.get("accept-encoding") ?? "", "gzip") > 0) {
    headers.set("content-encoding", "gzip");
    // The bytes are gzip already: sent as they are, not encoded again.
    return new Response(file.body, { headers, encodeBody: "manual" });
  }
  return new Response(new Response(file.body).body!.pipeThrough(new DecompressionStream("gzip")), { headers });
}
