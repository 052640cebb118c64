import { Hono } from "hono";
import { publicAccess } from "../../http/access";
import type { AppEnv } from "../../http/context";
import { describe } from "../../http/openapi";
import { SCALAR_SCRIPT, serveStaticFile } from "../../http/static-files";

/**
 * The API reference for people: Scalar rendering /v1/openapi.json, entirely from this worker.
 * Scalar's script is part of the worker's bundle (gzipped from node_modules by
 * src/cli/build-assets.ts); nothing is loaded from a CDN and the page contacts no other host.
 */
export const docsRoutes = new Hono<AppEnv>();

const OPENAPI_URL = "/v1/openapi.json";
const SCALAR_PATH = "/docs/scalar.js";

/** Scalar's configuration: everything that would reach a Scalar service or a font CDN turned off. */
const SCALAR_CONFIGURATION = {
  url: OPENAPI_URL,
  withDefaultFonts: false,
  telemetry: false,
  // The AI agent, the MCP button and the developer tools (the last two shown on localhost).
  agent: { disabled: true },
  mcp: { disabled: true },
  showDeveloperTools: "never",
  // "Open API Client" links to Scalar's hosted client with this document's URL; the in-page client
  // ("Test Request") stays, and sends its requests to this origin.
  hideClientButton: true,
};

const escapeAttribute = (value: string) =>
  value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

// Scalar's HTML API: it reads its configuration from #api-reference (a data block, never run) and
// mounts beside it. No inline script, so the policy below allows scripts from this origin only.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Parley API reference</title>
</head>
<body>
<noscript>The API reference needs JavaScript. The OpenAPI document is at <a href="${OPENAPI_URL}">${OPENAPI_URL}</a>.</noscript>
<script id="api-reference" type="application/json" data-url="${OPENAPI_URL}" data-configuration="${escapeAttribute(JSON.stringify(SCALAR_CONFIGURATION))}"></script>
<script src="${SCALAR_PATH}"></script>
</body>
</html>
`;

/**
 * Same-origin only. Styles need 'unsafe-inline': Scalar injects its stylesheet and renders its
 * theme as <style> elements (the theme one without a nonce). img-src allows data: for images
 * embedded in descriptions. No 'unsafe-eval': the zod inside Scalar probes once whether eval works
 * (a caught `Function("")`) and does without; browsers log that refusal as a CSP violation.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const PAGE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "x-frame-options": "DENY",
  "cache-control": "no-cache",
};

const tags = ["Meta"];

docsRoutes.get(
  "/docs",
  describe({
    summary: "The API reference, for people",
    description: "Renders this document with Scalar, served by the worker itself (no CDN, no network).",
    tags,
    responses: { 200: { description: "The page.", contentType: "text/html", schema: null } },
  }),
  publicAccess,
  () => new Response(PAGE, { headers: PAGE_HEADERS }),
);

docsRoutes.get(
  "/docs/",
  describe({ summary: "Redirects to /docs", tags, responses: { 301: { description: "To /docs.", schema: null } } }),
  publicAccess,
  (c) => c.redirect("/docs", 301),
);

docsRoutes.get(
  SCALAR_PATH,
  describe({
    summary: "The API reference's script",
    tags,
    responses: { 200: { description: "The file.", contentType: "text/javascript", schema: null } },
  }),
  publicAccess,
  (c) => serveStaticFile(c.req.raw, SCALAR_SCRIPT),
);
