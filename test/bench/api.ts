// The few API calls the benchmark makes outside the load itself: setup, seeding and sampling.
import { createApp as createAppVia, type App } from "../support/apps.ts";
import { expectStatus, httpSend } from "../support/http.ts";
import type { Signer } from "../support/jwt.ts";

/** One JSON request; anything but the expected status is an error that stops the run. */
export const call = <T = any>(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
  expect: number[] = [200, 201],
): Promise<T> => expectStatus(httpSend(baseUrl), method, path, headers, expect, body);

/**
 * The benchmark's app and key. Its app-scope JWT (`appJwt`, `server`) is minted once and has no
 * expiry, so that it outlives the run.
 */
export const createApp = (baseUrl: string, account: Signer): Promise<App> =>
  createAppVia(httpSend(baseUrl), account, { name: "bench", keyName: "bench", iat: false });
