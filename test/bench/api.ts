// The few API calls the benchmark makes outside the load itself: setup, seeding and sampling.
import { SignJWT } from "jose";

const encoder = new TextEncoder();

export const sign = (payload: Record<string, unknown>, kid: string, secret: string) =>
  new SignJWT(payload).setProtectedHeader({ alg: "HS256", kid }).sign(encoder.encode(secret));

export interface BenchApp {
  appId: string;
  appToken: string;
  keyId: string;
  secret: string;
  /** An app-scope JWT of that key (no expiry: it outlives the run). */
  appJwt: string;
}

/** One JSON request; anything but the expected status is an error that stops the run. */
export async function call<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
  expect: number[] = [200, 201],
): Promise<T> {
  const response = await fetch(baseUrl + path, {
    method,
    headers: { ...headers, ...(body !== undefined && { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!expect.includes(response.status)) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

export async function createApp(baseUrl: string, account: { keyId: string; secret: string }): Promise<BenchApp> {
  const auth = { authorization: `Bearer ${await sign({ scope: "account" }, account.keyId, account.secret)}` };
  const { app } = await call(baseUrl, "POST", "/v1/apps", auth, { name: "bench" });
  const { key } = await call(baseUrl, "POST", `/v1/apps/${app._id}/keys`, auth, { name: "bench" });
  return {
    appId: app._id,
    appToken: app.appToken,
    keyId: key._id,
    secret: key.secret,
    appJwt: await sign({ scope: "app" }, key._id, key.secret),
  };
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight. */
export async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}
