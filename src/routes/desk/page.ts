import { Hono } from "hono";
import { config } from "../../config";
import { deskIdentity } from "../../desk/access";
import { notFound } from "../../errors";
import { DESK_SCRIPT, serveStaticFile } from "../../http/static-files";
import { deskApi, deskErrorResponse } from "./routes";

/**
 * Parley Desk: the inbox page (`/desk`), its script (`/desk/desk.js`, bundled from
 * src/browser/desk/ by src/cli/build-assets.ts into the worker)
 * and its API (`/desk/api`). All three behind the same Access check: 401 without a valid token,
 * and without Access configured, 404 off loopback hosts.
 */
export const deskRoutes = new Hono<{ Bindings: Env }>();

deskRoutes.mount("/api", deskApi.fetch);

deskRoutes.use("*", async (c, next) => {
  await deskIdentity(c.env, c.req.raw);
  await next();
});

/** Where uploaded images are served from when that is not this origin (PUBLIC_URL), or null. */
function mediaOrigin(env: Env, url: URL): string | null {
  const publicUrl = config(env).publicUrl;
  if (!publicUrl) return null;
  const origin = new URL(publicUrl).origin;
  return origin === url.origin ? null : origin;
}

/**
 * Only this origin: its script (no inline script), its API and live channel, its images (and the
 * media origin's). The script's styles are a constructed stylesheet, which `style-src` does not
 * govern, so no style source is allowed at all.
 */
function contentSecurityPolicy(url: URL, media: string | null): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'none'",
    `connect-src 'self' ${url.protocol === "https:" ? "wss:" : "ws:"}//${url.host}`,
    `img-src 'self' blob:${media ? ` ${media}` : ""}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (media: string | null) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Parley Desk</title>
<script src="/desk/desk.js" defer></script>
</head>
<body>
<div id="desk"${media ? ` data-media-origin="${escapeHtml(media)}"` : ""}><p>Loading Parley Desk…</p><noscript><p>Parley Desk needs JavaScript.</p></noscript></div>
</body>
</html>
`;

deskRoutes.get("/", (c) => {
  const url = new URL(c.req.url);
  const media = mediaOrigin(c.env, url);
  return new Response(page(media), {
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": contentSecurityPolicy(url, media),
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "cache-control": "no-store",
    },
  });
});

// Revalidated on every load: it follows deploys, and only the signed-in may read it.
deskRoutes.get("/desk.js", (c) =>
  serveStaticFile(c.req.raw, DESK_SCRIPT, { "cache-control": "private, no-cache", "x-content-type-options": "nosniff" }),
);

deskRoutes.notFound((c) => notFound(`path: no route for ${c.req.method} ${new URL(c.req.url).pathname}`).toResponse());
deskRoutes.onError(deskErrorResponse);
