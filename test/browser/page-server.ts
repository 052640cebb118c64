// The web page a business embeds the widget in, on its own origin: a tiny static HTTP server on
// loopback (another port than wrangler dev's, so every API call from the page is cross-origin)
// serving the widget bundles from their temporary directory and one HTML page.
import { randomBytes } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { basename, join } from "node:path";

/**
 * The page: loads `/smooch-<widget>.js`, then calls Smooch.init with what its query string says
 * and, once init resolves, Smooch.open() (both lines render the widget closed, as a button, unless
 * `open=0`). Everything the tests read is kept on `window.__parley`.
 */
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Parley widget test page</title>
<style>body { font-family: sans-serif; margin: 2em; } #status { color: #555; }</style>
</head>
<body>
<h1>A business's page</h1>
<p id="status">loading the widget</p>
<script>
(function () {
  var query = new URLSearchParams(location.search);
  var widget = query.get("widget") || "3";
  var state = (window.__parley = { widget: widget, init: "loading", events: [], errors: [] });
  window.addEventListener("error", function (event) { state.errors.push(String(event.message)); });
  var script = document.createElement("script");
  script.src = "/smooch-" + encodeURIComponent(widget) + ".js";
  script.onerror = function () { state.init = "rejected"; state.error = "the widget bundle did not load"; };
  script.onload = function () {
    var options = { appToken: query.get("appToken"), serviceUrl: query.get("serviceUrl") };
    if (query.has("userId")) options.userId = query.get("userId");
    if (query.has("jwt")) options.jwt = query.get("jwt");
    ["ready", "message:sent", "message:received", "unreadCount"].forEach(function (name) {
      Smooch.on(name, function (value) {
        state.events.push({ name: name, at: Date.now(), text: value && value.text });
      });
    });
    state.init = "pending";
    state.initStarted = Date.now();
    Smooch.init(options).then(
      function (appUser) {
        state.init = "resolved";
        state.initResolved = Date.now();
        state.appUser = appUser;
        document.getElementById("status").textContent = "widget ready";
        if (query.get("open") !== "0") Smooch.open();
      },
      function (error) {
        state.init = "rejected";
        state.error = String((error && (error.stack || error.message)) || error);
        document.getElementById("status").textContent = "widget failed: " + state.error;
      }
    );
  };
  document.body.appendChild(script);
})();
</script>
</body>
</html>
`;

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The page that embeds Parley Messenger as the README says: one script tag for the worker's
 * /messenger.js (no serviceUrl: it defaults to the script's origin), then Parley.init, under the
 * strict Content-Security-Policy the README documents, and with page CSS that would break a
 * messenger not isolated in its shadow root. What the tests read is kept on `window.__parley`, as
 * on the Smooch page, plus the page's CSP violations.
 */
function parleyPage(serviceUrl: string, nonce: string): { html: string; csp: string } {
  const api = new URL(serviceUrl);
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}' ${api.origin}`,
    `style-src 'nonce-${nonce}'`,
    `connect-src ${api.origin} ${api.protocol === "https:" ? "wss:" : "ws:"}//${api.host}`,
    `img-src ${api.origin} blob:`,
    "base-uri 'none'",
  ].join("; ");
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>A business's page with Parley Messenger</title>
<style nonce="${nonce}">
body { font-family: sans-serif; margin: 2em; }
/* A careless site stylesheet: none of it may reach the messenger. */
button, section, li, div { display: none !important; color: red !important; font-size: 40px !important; }
ol { list-style: decimal !important; }
</style>
</head>
<body>
<main><h1>A business's page</h1><p id="status">loading the messenger</p></main>
<script src="${escapeHtml(api.origin)}/messenger.js"></script>
<script nonce="${nonce}">
(function () {
  var query = new URLSearchParams(location.search);
  var state = (window.__parley = { widget: "parley", init: "loading", events: [], errors: [], csp: [] });
  window.addEventListener("error", function (event) { state.errors.push(String(event.message)); });
  document.addEventListener("securitypolicyviolation", function (event) { state.csp.push(event.violatedDirective + " " + event.blockedURI); });
  if (!window.Parley) { state.init = "rejected"; state.error = "messenger.js did not load"; return; }
  ["ready", "message:sent", "message:received", "unreadCount", "destroy"].forEach(function (name) {
    Parley.on(name, function (value) {
      state.events.push({ name: name, at: Date.now(), text: value && value.text, value: typeof value === "number" ? value : undefined });
    });
  });
  var options = { appToken: query.get("appToken") };
  if (query.has("userId")) options.userId = query.get("userId");
  if (query.has("jwt")) options.jwt = query.get("jwt");
  state.init = "pending";
  Parley.init(options).then(
    function (appUser) {
      state.init = "resolved";
      state.appUser = appUser;
      document.getElementById("status").textContent = "messenger ready";
      if (query.get("open") !== "0") Parley.open();
    },
    function (error) {
      state.init = "rejected";
      state.error = String((error && (error.stack || error.message)) || error);
    }
  );
})();
</script>
</body>
</html>
`;
  return { html, csp };
}

export interface PageServer {
  origin: string;
  close: () => Promise<void>;
}

/** Serves `/` (the Smooch page), `/parley` (the Parley page) and `/smooch-*.js` from `bundleDir` on 127.0.0.1 at a free port. */
export async function startPageServer(bundleDir: string): Promise<PageServer> {
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://page").pathname;
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
    } else if (path === "/" || path === "/index.html") {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }).end(PAGE);
    } else if (path === "/parley") {
      const serviceUrl = new URL(request.url ?? "/", "http://page").searchParams.get("serviceUrl") ?? "";
      if (!/^https?:\/\/[^/]+$/.test(serviceUrl.replace(/\/+$/, ""))) {
        response.writeHead(400, { "content-type": "text/plain" }).end("serviceUrl: an origin is required");
        return;
      }
      const { html, csp } = parleyPage(serviceUrl, randomBytes(16).toString("base64"));
      response.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "content-security-policy": csp }).end(html);
    } else if (/^\/smooch-[0-9a-z]+\.js$/.test(path) && existsSync(join(bundleDir, basename(path)))) {
      response.writeHead(200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-store" });
      createReadStream(join(bundleDir, basename(path))).pipe(response);
    } else if (path === "/favicon.ico") {
      response.writeHead(204).end();
    } else {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    origin,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
