// npm run dev: local D1 migrations, .dev.vars with random account credentials, then wrangler dev.
// wrangler's start-up output (the build, the bindings table) is held back and shown only if it
// fails to start; once it is ready, the banner comes last, then wrangler's request log.
import { randomBytes } from "node:crypto";
import { isLoopbackHost } from "../lib/loopback.ts";
import { devBanner, devOrigin, option } from "./dev-banner.ts";
import { ensureDevVars } from "./dev-vars.ts";
import { migrateLocal, wrangler } from "./wrangler.ts";

const { vars, created } = ensureDevVars();
const args = process.argv.slice(2);
const origin = devOrigin(args);
const ip = option(args, "--ip");
// Listening beyond loopback, the demo takes a secret, new each run: a peer on the network could
// otherwise open it (a Host header saying localhost is all the worker sees) and post as its business.
const demoSecret = ip === undefined || isLoopbackHost(ip) ? null : randomBytes(18).toString("base64url");

console.log("Parley: applying the local D1 migrations and starting wrangler dev…");
await migrateLocal({ stdio: ["ignore", "pipe", "pipe"] });

// Local webhook targets (a server on this machine) are allowed in development only.
const devOnly = ["WEBHOOK_ALLOW_PRIVATE_TARGETS:true", ...(demoSecret ? [`DEMO_SECRET:${demoSecret}`] : [])];
const child = wrangler(["dev", ...devOnly.flatMap((value) => ["--var", value]), ...args], { stdio: ["inherit", "pipe", "pipe"] });
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));

// Until wrangler says it is ready, its output is held; if it exits first, that output is the explanation.
let held: Buffer[] | null = [];
const relay = (stream: NodeJS.WriteStream) => (chunk: Buffer) => {
  if (!held) return stream.write(chunk);
  held.push(chunk);
  if (/Ready on /.test(chunk.toString())) {
    held = null;
    console.log(devBanner({ origin, vars, created, demoSecret }).join("\n"));
  }
};
child.stdout!.on("data", relay(process.stdout));
child.stderr!.on("data", relay(process.stderr));
child.on("exit", (code) => {
  for (const chunk of held ?? []) process.stderr.write(chunk);
  process.exit(code ?? 0);
});
