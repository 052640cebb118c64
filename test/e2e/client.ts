// What the end-to-end tests share: the official client, apps, and the calls it has no method for.
import { createRequire } from "node:module";
import { inject } from "vitest";
import { createApp as createAppVia, type App } from "../support/apps.ts";
import { expectStatus, httpSend } from "../support/http.ts";
import { bearer } from "../support/jwt.ts";
import { sleep } from "../support/pace.ts";

// The client's Node entry (package.json "main"), loaded the way a Node app of its day did.
export const SmoochCore = createRequire(import.meta.url)("smooch-core");

export const baseUrl = inject("baseUrl");
export const options = { serviceUrl: `${baseUrl}/v1` };
export const HEX_ID = /^[0-9a-f]{24}$/;

/** The e2e suite's JWTs expire in 10 minutes, as a server's short-lived tokens would. */
const JWT_EXPIRY = "10m";

const send = httpSend(baseUrl);

/** Calls the endpoints smooch-core 1.5.0 has no method for (account API, whispers, deliveries). */
export const api = (method: string, path: string, jwt: string, body?: unknown) =>
  expectStatus(send, method, path, bearer(jwt), [200, 201], body);

/** An app and a key made through the account API of the server the global setup started. */
export const createApp = (name: string): Promise<App> =>
  createAppVia(send, { keyId: inject("accountKeyId"), secret: inject("accountSecret") }, { name, exp: JWT_EXPIRY });

/** The HTTP status smooch-core rejected with (its errors carry the fetch Response). */
export const refusal = (call: Promise<unknown>): Promise<number> =>
  call.then(
    () => {
      throw new Error("expected the call to be refused");
    },
    (error) => {
      if (!error.response) throw error;
      return error.response.status;
    },
  );

/** Long enough for the queue's 1 s batch window (twice for a push) plus a retry delay or two of the 1 s base. */
const DELIVERY_DEADLINE_MS = 15_000;

/** Polls until `probe` returns something truthy, failing with `what` after the deadline. */
export async function until<T>(
  what: string,
  probe: () => T | false | undefined | Promise<T | false | undefined>,
  deadlineMs = DELIVERY_DEADLINE_MS,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await sleep(100);
  }
}
