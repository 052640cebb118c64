import { Hono } from "hono";
import { publicAccess } from "../../http/access";
import { serveAsset } from "../../http/assets";
import type { AppEnv } from "../../http/context";
import { describe } from "../../http/openapi";

/**
 * Parley Messenger, the embeddable web chat: one script, bundled from src/messenger/ by
 * src/cli/build-assets.ts into the static assets. `/messenger.js` follows deploys (cached five
 * minutes); `/messenger-{version}.js` never changes, for pages that pin it with an integrity hash.
 */
export const messengerRoutes = new Hono<AppEnv>();

// Served by the asset server with the headers of src/static/_headers (see serveAsset).
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
  serveAsset,
);
