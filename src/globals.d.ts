// What `wrangler types` cannot infer from wrangler.toml: the main module's exports, which type
// `ctx.exports` and the test runtime's `exports`.
declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import("./index");
    durableNamespaces: "Conversation";
  }
}
