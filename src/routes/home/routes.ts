import { Hono } from "hono";
import { z } from "zod";
import { demoAvailable } from "../../demo/demo";
import { publicAccess } from "../../http/access";
import type { AppEnv } from "../../http/context";
import { describe } from "../../http/openapi";

/** The service root, which points a newcomer at the reference and the demo, and the favicon. */
export const homeRoutes = new Hono<AppEnv>();

const tags = ["Meta"];

const serviceInfo = z.object({
  name: z.string(),
  api: z.string().meta({ description: "The API's root." }),
  docs: z.string().meta({ description: "The API reference, for people." }),
  openapi: z.string().meta({ description: "The OpenAPI document." }),
  demo: z.string().optional().meta({ description: "The messenger demo, where it is served (local development)." }),
});

const LABELS: Record<string, string> = {
  docs: "API reference",
  openapi: "OpenAPI document",
  demo: "Messenger demo: both sides of a chat in one window",
};

/** A page of the same links for a browser; every value is one of this file's constant paths. */
function homePage(links: Record<string, string>): string {
  const items = Object.entries(LABELS)
    .filter(([name]) => links[name])
    .map(([name, label]) => `<li><a href="${links[name]}">${label}</a> <code>${links[name]}</code></li>`);
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Parley</title></head>
<body>
<h1>Parley</h1>
<p>The Smooch v1 conversation API, at <code>${links.api}</code>.</p>
<ul>
${items.join("\n")}
</ul>
</body>
</html>
`;
}

homeRoutes.get(
  "/",
  describe({
    summary: "Service information",
    description: "JSON, or for a browser (`Accept: text/html`) a page of the same links. `demo` only where the demo is served.",
    tags,
    responses: { 200: { description: "The service's name, API root and where to read about it.", schema: serviceInfo } },
  }),
  publicAccess,
  (c) => {
    const links = {
      name: "parley",
      api: "/v1",
      docs: "/docs",
      openapi: "/v1/openapi.json",
      ...(demoAvailable(c.env, c.req.url) && { demo: "/demo" }),
    };
    if (!c.req.header("accept")?.includes("text/html")) return c.json(links);
    return c.html(homePage(links), 200, { "content-security-policy": "default-src 'none'; img-src 'self'; frame-ancestors 'none'" });
  },
);

// A speech bubble in the messenger's default accent colour.
const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path fill="#1f6feb" d="M6 4h20a4 4 0 0 1 4 4v12a4 4 0 0 1-4 4H14l-7 6v-6H6a4 4 0 0 1-4-4V8a4 4 0 0 1 4-4z"/></svg>`;

homeRoutes.get(
  "/favicon.ico",
  describe({
    summary: "The favicon",
    description: "An SVG, which browsers take under this name too.",
    tags,
    responses: { 200: { description: "The icon.", contentType: "image/svg+xml", schema: null } },
  }),
  publicAccess,
  () => new Response(FAVICON, { headers: { "content-type": "image/svg+xml", "cache-control": "public, max-age=86400" } }),
);
