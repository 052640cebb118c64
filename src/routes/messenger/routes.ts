import { Hono } from "hono";
import { publicAccess } from "../../http/access";
import type { AppEnv } from "../../http/context";
import { describe } from "../../http/openapi";

/**
 * Parley Messenger, the embeddable web chat: one script, bundled from src/messenger/ by
 * src/cli/build-assets.ts into the static assets. `/messenger.js` follows deploys (cached five
 * minutes); `/messenger-{version}.js` never changes, for pages that pin it with an integrity hash.
 */
export const messengerRoutes = new Hono<AppEnv>();

// In production the asset server answers these before the worker runs, with the headers of
// src/static/_headers; requests that do reach the worker (the tests call its fetch handler
// directly) get the same file and headers from the binding.
messengerRoutes.get(
  "/:file{messenger(-[0-9A-Za-z.]+)?\\.js}",
  describe({
    summary: "The Parley Messenger script",
    description:
      "One script tag adds the web chat to a page: `<script src=\"/messenger.js\"></script>`, then " +
      "`Parley.init({ appToken })`. `/messenger-{version}.js` is the same script under a name that never changes.",
    tags: ["Messenger"],
    errors: [404],
    responses: { 200: { description: "The script.", contentType: "text/javascript", schema: null } },
  }),
  publicAccess,
  async (c) => {
    const response = await c.env.ASSETS.fetch(c.req.raw);
    if (response.status !== 404) return response;
    await response.body?.cancel();
    return c.notFound();
  },
);
