// npm run dev: local D1 migrations, .dev.vars with random account credentials, then wrangler dev.
import { ensureDevVars } from "./dev-vars.ts";
import { migrateLocal, wrangler } from "./wrangler.ts";

const { vars, created } = ensureDevVars();
console.log(created ? "Created .dev.vars with new account credentials:" : "Account credentials from .dev.vars:");
console.log(`  ACCOUNT_KEY_ID=${vars.ACCOUNT_KEY_ID}\n  ACCOUNT_SECRET=${vars.ACCOUNT_SECRET}`);
console.log("Create an app with: npm run app:create -- --name 'My app'\n");

await migrateLocal();
// Local webhook targets (a server on this machine) are allowed in development only.
const child = wrangler(["dev", "--var", "WEBHOOK_ALLOW_PRIVATE_TARGETS:true", ...process.argv.slice(2)]);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
child.on("exit", (code) => process.exit(code ?? 0));
