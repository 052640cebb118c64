// npm run dev: local D1 migrations, .dev.vars with random account credentials, then wrangler dev.
import { randomBytes } from "node:crypto";
import { isLoopbackHost } from "../lib/loopback.ts";
import { ensureDevVars } from "./dev-vars.ts";
import { migrateLocal, wrangler } from "./wrangler.ts";

const { vars, created } = ensureDevVars();
console.log(created ? "Created .dev.vars with new account credentials:" : "Account credentials from .dev.vars:");
console.log(`  ACCOUNT_KEY_ID=${vars.ACCOUNT_KEY_ID}\n  ACCOUNT_SECRET=${vars.ACCOUNT_SECRET}`);
console.log("Create an app with: npm run app:create -- --name 'My app'");

/** The value of `--name V` or `--name=V` among the arguments passed on to wrangler. */
const option = (args: string[], name: string) => {
  const at = args.findLastIndex((arg) => arg === name || arg.startsWith(`${name}=`));
  return at === -1 ? undefined : args[at] === name ? args[at + 1] : args[at].slice(name.length + 1);
};
const args = process.argv.slice(2);
const ip = option(args, "--ip");
const host = !ip || ip === "0.0.0.0" || ip === "::" || ip === "*" ? "127.0.0.1" : ip.includes(":") ? `[${ip}]` : ip;
const origin = `${option(args, "--local-protocol") ?? "http"}://${host}:${option(args, "--port") ?? "8787"}`;
// Listening beyond loopback, the demo takes a secret, new each run: a peer on the network could
// otherwise open it (a Host header saying localhost is all the worker sees) and post as its business.
const demoSecret = ip === undefined || isLoopbackHost(ip) ? null : randomBytes(18).toString("base64url");
console.log(`API reference: ${origin}/docs`);
console.log(`Messenger demo (both sides of a chat in one window): ${origin}/demo${demoSecret ? `?secret=${demoSecret}` : ""}\n`);

await migrateLocal();
// Local webhook targets (a server on this machine) are allowed in development only.
const devOnly = ["WEBHOOK_ALLOW_PRIVATE_TARGETS:true", ...(demoSecret ? [`DEMO_SECRET:${demoSecret}`] : [])];
const child = wrangler(["dev", ...devOnly.flatMap((value) => ["--var", value]), ...args]);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
child.on("exit", (code) => process.exit(code ?? 0));
