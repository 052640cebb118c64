import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { SignJWT } from "jose";

export const BASE = "https://parley.test";

export interface Call {
  body?: unknown;
  headers?: Record<string, string>;
  raw?: BodyInit;
}

/** Calls the worker through its real fetch handler and returns status, headers and JSON. */
export async function call(method: string, path: string, auth: Record<string, string> = {}, options: Call = {}) {
  const headers: Record<string, string> = { ...auth, ...options.headers };
  let body: BodyInit | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await exports.default.fetch(new Request(`${BASE}${path}`, { method, headers, body }));
  const text = await response.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: response.status, headers: response.headers, json };
}

export async function sign(payload: Record<string, unknown>, kid: string, secret: string, alg = "HS256", exp?: number) {
  const jwt = new SignJWT(payload).setProtectedHeader({ alg, kid }).setIssuedAt();
  if (exp !== undefined) jwt.setExpirationTime(exp);
  return jwt.sign(new TextEncoder().encode(secret));
}

export const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });

export const account = async () => bearer(await sign({ scope: "account" }, env.ACCOUNT_KEY_ID, env.ACCOUNT_SECRET));

export interface TestApp {
  appId: string;
  appToken: string;
  keyId: string;
  secret: string;
  /** app-token header */
  token: Record<string, string>;
  /** app-scope JWT header */
  server: Record<string, string>;
  /** appUser-scope JWT header for a userId */
  user: (userId: string) => Promise<Record<string, string>>;
}

/** Creates an app and a key through the account API, as an operator would. */
export async function createApp(name = "test app", settings?: Record<string, unknown>): Promise<TestApp> {
  const acct = await account();
  const created = await call("POST", "/v1/apps", acct, { body: { name, ...(settings && { settings }) } });
  if (created.status !== 201) throw new Error(`app create failed: ${JSON.stringify(created.json)}`);
  const appId = created.json.app._id;
  const key = await call("POST", `/v1/apps/${appId}/keys`, acct, { body: { name: "server" } });
  const { _id: keyId, secret } = key.json.key;
  return {
    appId,
    appToken: created.json.app.appToken,
    keyId,
    secret,
    token: { "app-token": created.json.app.appToken },
    server: bearer(await sign({ scope: "app" }, keyId, secret)),
    user: async (userId: string) => bearer(await sign({ scope: "appUser", userId }, keyId, secret)),
  };
}

export const device = (id: string, platform = "ios") => ({ id, platform });
