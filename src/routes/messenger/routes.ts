import { Hono } from "hono";
import { publicAccess } from "../../http/access";
import type { AppEnv } from "../../http/context";
import { describe } from "../../http/openapi";
import { MESSENGER_SCRIPT, serveStaticFile } from "../../http/static-files";
import { VERSION } from "../../browser/messenger/version";

/**
 * Parley Messenger, the embeddable web chat: one script, bundled from src/browser/messenger/ by
 * src/cli/build-assets.ts into the worker. `/messenger.js` follows deploys (cached five minutes);
 * `/messenger-{version}.js` never changes, for pages that pin it with an integrity hash. Any page
 * may fetch either (CORS, for the integrity check of a cross-origin `<script crossorigin>`).
 */
export const messengerRoutes = new Hono<AppEnv>();

// Two static paths rather than one pattern: a parameter at the root, beside /v1 and /faye, would
// make Hono fall back from its RegExpRouter to the slower TrieRouter for every request.
const scripts = [
  { path: "/messenger.js", summary: "The Parley Messenger script", cacheControl: "public, max-age=300" },
  { path: `/messenger-${VERSION}.js`, summary: "The Parley Messenger script, pinned to this version", cacheControl: "public, max-age=31536000, immutable" },
];

for (const { path, summary, cacheControl } of scripts) {
  messengerRoutes.get(
    path,
    describe({
      summary,
      description:
        "One script tag adds the web chat to a page: `<script src=\"/messenger.js\"></script>`, then " +
        "`Parley.init({ appToken })`. `/messenger-{version}.js` is the same script under a name that never changes.",
      tags: ["Messenger"],
      responses: { 200: { description: "The script.", contentType: "text/javascript", schema: null } },
    }),
    publicAccess,
    (c) => serveStaticFile(c.req.raw, MESSENGER_SCRIPT, { "cache-control": cacheControl, "access-control-allow-origin": "*" }),
  );
}
