// What the end-to-end tests share: the official client, JWTs, and the calls it has no method for.
import { createRequire } from "node:module";
import { SignJWT } from "jose";
import { inject } from "vitest";

// The client's Node entry (package.json "main"), loaded the way a Node app of its day did.
export const SmoochCore = createRequire(import.meta.url)("smooch-core");

export const baseUrl = inject("baseUrl");
export const options = { serviceUrl: `${baseUrl}/v1` };
export const HEX_ID = /^[0-9a-f]{24}$/;

export const sign = (payload: Record<string, unknown>, kid: string, secret: string) =>
  new SignJWT(payload)
    .setProtectedHeader({ alg: "HS256", kid })
    .setIssuedAt()
    .setExpirationTime("10m")
    .sign(new TextEncoder().encode(secret));

/** Calls the endpoints smooch-core 1.5.0 has no method for (account API, whispers, deliveries). */
export async function api(method: string, path: string, jwt: string, body?: unknown) {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

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

/** An account-scope JWT for the server the global setup started. */
export const accountJwt = () => sign({ scope: "account" }, inject("accountKeyId"), inject("accountSecret"));
