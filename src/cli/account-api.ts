// What app:create and app:jwt share: their arguments, the account credentials of .dev.vars, and
// calls to the account API that fail with one line naming the URL rather than a stack.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { SignJWT } from "jose";
import { readDevVars } from "./dev-vars.ts";

/** npm run dev's default address, which wrangler dev listens on unless told otherwise. */
export const DEFAULT_URL = "http://127.0.0.1:8787";

/** A failure the user can act on: printed as one line, without a stack. */
export class CliError extends Error {}

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * The command's options, plus `--url` and `--help`. `--help` prints the usage and exits 0; an
 * unknown or malformed option prints its message and the usage, and exits 2.
 */
export function cliArgs<O extends Options>(usage: string, options: O) {
  try {
    const { values } = parseArgs({
      options: { ...options, url: { type: "string", default: DEFAULT_URL }, help: { type: "boolean", short: "h" } },
    }) as { values: Record<string, unknown> };
    if (values.help) {
      console.log(usage);
      process.exit(0);
    }
    return values as unknown as { [K in keyof O]?: string } & { url: string };
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    process.exit(2);
  }
}

/** Runs a command's body, reporting a CliError (or anything else) as one line and exit code 1. */
export function runCli(main: () => Promise<void>) {
  main().catch((error: unknown) => {
    console.error(error instanceof CliError ? error.message : `error: ${(error as Error).message ?? error}`);
    process.exit(1);
  });
}

/** A short-lived account JWT from ACCOUNT_KEY_ID and ACCOUNT_SECRET (the environment, else .dev.vars). */
export async function accountJwt(): Promise<string> {
  const vars = { ...readDevVars(), ...process.env };
  const keyId = vars.ACCOUNT_KEY_ID;
  const secret = vars.ACCOUNT_SECRET;
  if (!keyId || !secret) {
    throw new CliError("ACCOUNT_KEY_ID and ACCOUNT_SECRET are needed: run npm run dev once, or set them in the environment.");
  }
  return new SignJWT({ scope: "account" })
    .setProtectedHeader({ alg: "HS256", kid: keyId })
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode(secret));
}

/** Calls the account API at baseUrl; a server that does not answer or an error status is a CliError. */
export async function callAccountApi<T>(baseUrl: string, jwt: string, method: string, path: string, body?: unknown): Promise<T> {
  let url: URL;
  try {
    url = new URL(path, baseUrl);
  } catch {
    throw new CliError(`--url ${baseUrl}: not a URL`);
  }
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${jwt}`, ...(body !== undefined && { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(
      `cannot reach Parley at ${url.origin} (${cause?.code ?? cause?.message ?? (error as Error).message}): is npm run dev running? Another address: --url`,
    );
  }
  const text = await response.text();
  if (!response.ok) throw new CliError(`${method} ${url}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}
