import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { z } from "zod";
import { assertDemoAllowed, assertDemoSecret, assertFromDemoPage, demoApp, replyAsDemoBusiness } from "../../demo/demo";
import { publicAccess } from "../../http/access";
import type { AppEnv } from "../../http/context";
import { describe } from "../../http/openapi";
import { jsonBody } from "../../http/validate";
import { messageSchema } from "../../model/message";
import { demoReplyBody } from "./schemas";

/**
 * The demo for local development (src/demo/): Parley Messenger for the "Demo" app beside a reply
 * box that answers as its business. Answered on loopback hosts only, unless DEMO_ENABLED; with
 * the secret only, when DEMO_SECRET is set. No CORS headers (src/http/edge.ts): no other page
 * may read the demo app's token or the answers.
 */
export const demoRoutes = new Hono<AppEnv>();

const demoOnly = createMiddleware<AppEnv>(async (c, next) => {
  assertDemoAllowed(c.env, c.req.url);
  await next();
});

const tags = ["Demo"];
const DEMO_NOTE =
  "Only on a loopback host (`npm run dev`), or anywhere when `DEMO_ENABLED` is `true`; otherwise 404. " +
  "When `DEMO_SECRET` is set (`npm run dev` sets it under a non-loopback `--ip`, and prints it), only with that secret; otherwise 403.";
/** How the page hands the secret it was opened with to its reply box. */
const SECRET_HEADER = "x-demo-secret";

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// The page's own script: init the messenger for the Demo app, and post the reply box's text as
// the business to whoever the visitor is now (login and logout change that).
const PAGE_SCRIPT = `
const main = document.querySelector("main");
const secret = main.dataset.demoSecret;
const form = document.getElementById("reply");
const input = document.getElementById("reply-text");
const status = document.getElementById("reply-status");
Parley.init({ appToken: main.dataset.appToken }).then(
  (appUser) => { status.textContent = "The visitor is app user " + appUser._id + "."; Parley.open(); },
  (error) => { status.textContent = "The messenger did not start: " + error.message; },
);
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = input.value.trim();
  const appUser = Parley.getUser();
  if (!text || !appUser) return;
  const response = await fetch("/demo/reply", {
    method: "POST",
    headers: { "content-type": "application/json", ...(secret && { "${SECRET_HEADER}": secret }) },
    body: JSON.stringify({ appUserId: appUser._id, text }),
  });
  if (response.ok) input.value = "";
  status.textContent = response.ok ? "Sent as the business." : "Not sent: " + (await response.json()).error.description;
});
`;

const PAGE_STYLE = `
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; padding: 2rem; max-width: 40rem; color: #111; background: #fff; }
@media (prefers-color-scheme: dark) { body { color: #eee; background: #111; } textarea { color: inherit; background: #222; } }
textarea { display: block; width: 100%; min-height: 5rem; font: inherit; margin: .5rem 0; }
code { font-size: .9em; }
main { display: flex; flex-direction: column; }
/* Wider, the open messenger (370 px, 20 px from the right) sits beside the page: keep clear of it. */
@media (min-width: 601px) { body { max-width: min(40rem, calc(100vw - 4rem - 400px)); } }
/* Below 600 px the messenger fills its containing block: here the top half of the screen (a
   transformed host contains its fixed panel), with the reply box right under it, so both stay usable. */
@media (max-width: 600px) {
  body { padding: calc(50vh + .5rem) 1rem 1rem; }
  h1 { font-size: 1.25rem; margin: 0; }
  #reply, #reply-status { order: -1; }
  textarea { min-height: 3rem; }
  parley-messenger { display: block; position: fixed; top: 0; left: 0; right: 0; height: 50vh; transform: translateZ(0); }
}
`;

function demoPage(appToken: string, secret: string | undefined, origin: string, nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Parley Messenger demo</title>
<style nonce="${nonce}">${PAGE_STYLE}</style>
</head>
<body>
<main data-app-token="${escapeHtml(appToken)}"${secret === undefined ? "" : ` data-demo-secret="${escapeHtml(secret)}"`}>
<h1>Parley Messenger demo</h1>
<p>The visitor's side is the messenger (bottom right; on a phone, above): write in it. Answer here as the business of
the <strong>Demo</strong> app; your replies reach the messenger in real time.</p>
<form id="reply">
<label for="reply-text">Reply as the business</label>
<textarea id="reply-text" required></textarea>
<button type="submit">Send as the business</button>
</form>
<p id="reply-status" role="status"></p>
<p>On your own site: <code>&lt;script src="${escapeHtml(origin)}/messenger.js"&gt;&lt;/script&gt;</code> and
<code>Parley.init({ appToken })</code>. See the README's "Add chat to your site".</p>
</main>
<script src="/messenger.js"></script>
<script nonce="${nonce}">${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

/** This origin only (its WebSocket too); the page's inline script and style by nonce. */
function contentSecurityPolicy(url: URL, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'self' 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    `connect-src 'self' ${url.protocol === "https:" ? "wss:" : "ws:"}//${url.host}`,
    "img-src 'self' blob:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

demoRoutes.get(
  "/demo",
  describe({
    summary: "The messenger demo page (local development)",
    description: `Parley Messenger for an app named "Demo" (made on first use), beside a reply box that answers as its business. ${DEMO_NOTE}`,
    tags,
    errors: [403, 404],
    responses: { 200: { description: "The page.", contentType: "text/html", schema: null } },
  }),
  publicAccess,
  demoOnly,
  async (c) => {
    const secret = c.req.query("secret");
    await assertDemoSecret(c.env, secret);
    const app = await demoApp(c.env);
    const url = new URL(c.req.url);
    const nonce = crypto.randomUUID().replace(/-/g, "");
    return new Response(demoPage(app.appToken, secret, url.origin, nonce), {
      headers: {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": contentSecurityPolicy(url, nonce),
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "cache-control": "no-store",
      },
    });
  },
);

demoRoutes.post(
  "/demo/reply",
  describe({
    summary: "Answer the demo's visitor as the business (local development)",
    example: { appUserId: "the visitor's appUser _id", text: "Hello from the business" },
    description:
      `Posts \`text\` as the Demo app's business (role appMaker) to the visitor, with the server's own authority; ` +
      `a request from another page (its \`Origin\`) is refused with 403. ${DEMO_NOTE}`,
    tags,
    errors: [400, 403, 404],
    responses: { 201: { description: "The stored message.", schema: z.object({ message: messageSchema }) } },
  }),
  publicAccess,
  demoOnly,
  jsonBody(demoReplyBody),
  async (c) => {
    assertFromDemoPage(c.req.header("origin"), c.req.url);
    await assertDemoSecret(c.env, c.req.header(SECRET_HEADER));
    const { appUserId, text } = c.req.valid("json");
    return c.json({ message: await replyAsDemoBusiness(c.env, appUserId, text) }, 201);
  },
);
