// App users for every suite, made the two ways the API offers: a device's init, and the
// business's server pre-creating a user. Runtime-neutral.
import { expectStatus, type Send } from "./http.ts";

export interface Device {
  id: string;
  platform: string;
  [field: string]: unknown;
}

/**
 * POST /v1/init for a device, and a userId when given, with whatever credential `headers` carry
 * (app token, appUser JWT, account JWT on /v1/apps/{appId}/init via `path`): the app user.
 */
export async function initUser(
  send: Send,
  headers: Record<string, string>,
  device: Device,
  userId?: string,
  path = "/v1/init",
): Promise<any> {
  const { appUser } = await expectStatus(send, "POST", path, headers, 200, { device, ...(userId !== undefined && { userId }) });
  return appUser;
}

/** POST /v1/appusers: the business's server creating a user (one D1 write, no device): the app user. */
export async function preCreateUser(
  send: Send,
  headers: Record<string, string>,
  userId: string,
  profile: Record<string, unknown> = {},
): Promise<any> {
  const { appUser } = await expectStatus(send, "POST", "/v1/appusers", headers, 201, { userId, ...profile });
  return appUser;
}
