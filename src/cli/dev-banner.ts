// What npm run dev prints last, once the server answers: the credentials, the URLs and what to run next.
import { DEFAULT_URL } from "./account-api.ts";

/** The value of `--name V` or `--name=V` among the arguments passed on to wrangler. */
export function option(args: string[], name: string): string | undefined {
  const at = args.findLastIndex((arg) => arg === name || arg.startsWith(`${name}=`));
  return at === -1 ? undefined : args[at] === name ? args[at + 1] : args[at].slice(name.length + 1);
}

/** Where wrangler dev listens, given its arguments, as a URL a browser on this machine can open. */
export function devOrigin(args: string[]): string {
  const ip = option(args, "--ip");
  const host = !ip || ip === "0.0.0.0" || ip === "::" || ip === "*" ? "127.0.0.1" : ip.includes(":") ? `[${ip}]` : ip;
  return `${option(args, "--local-protocol") ?? "http"}://${host}:${option(args, "--port") ?? "8787"}`;
}

export interface BannerInput {
  origin: string;
  vars: Record<string, string>;
  /** Whether .dev.vars was made by this run. */
  created: boolean;
  /** The demo's secret, when it listens beyond loopback. */
  demoSecret?: string | null;
}

/** The banner's lines. The suggested commands name the server with --url unless it is the default. */
export function devBanner({ origin, vars, created, demoSecret }: BannerInput): string[] {
  const url = origin === DEFAULT_URL ? "" : ` --url ${origin}`;
  return [
    "",
    `Parley is running at ${origin}`,
    "",
    `  API             ${origin}/v1`,
    `  API reference   ${origin}/docs`,
    `  Messenger demo  ${origin}/demo${demoSecret ? `?secret=${demoSecret}` : ""}   (both sides of a chat in one window)`,
    demoSecret
      ? `  Desk            off: with --ip beyond this machine, the Desk needs Cloudflare Access (README)`
      : `  Desk            ${origin}/desk   (answer every app's conversations, as the local agent)`,
    "",
    `Account credentials (${created ? "new, written to" : "from"} .dev.vars):`,
    `  ACCOUNT_KEY_ID=${vars.ACCOUNT_KEY_ID}`,
    `  ACCOUNT_SECRET=${vars.ACCOUNT_SECRET}`,
    "",
    "Next, in another terminal: an app, its key and an app-scope JWT to answer as the business:",
    `  npm run app:create -- --name 'My app'${url}`,
    `  npm run app:jwt -- --app APP_ID --key KEY_ID${url}   (another JWT later)`,
    "",
  ];
}
