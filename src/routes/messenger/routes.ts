import { Hono } from "hono";
import { publicAccess } from "../../http/access";
import { serveAsset } from "../../http/assets";
import type { AppEnv } from "../../http/context";
import { describe } from "../../http/openapi";
import { VERSION } from "../../browser/messenger/version";

/**
 * Parley Messenger, the embeddable web chat: one script, bundled from src/browser/messenger/ by
 * src/cli/build-assets.ts into the static assets. `/messenger.js` follows deploys (cached five
 * minutes); `/messenger-{version}.js` never changes, for pages that pin it with an integrity hash.
 */
export const messengerRoutes = new Hono<AppEnv>();

// Two static paths rather than one pattern: a parameter at the root, beside /v1 and /faye, would
// make Hono fall back from its RegExpRouter to the slower TrieRouter for every request.
const scripts = [
  { path: "/messenger.js", summary: "The Parley Messenger script" },
  { path: `/messenger-${VERSION}.js`, summary: "The Parley Messenger script, pinned to this version" },
];

// Served by the asset server with the headers of src/static/_headers (see serveAsset).
for (const { path, summary } of scripts) {
  messengerRoutes.get(
    path,
    describe({
      summary,
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
}
