import { unauthorized } from "../errors";
import type { Credential } from "./credential";
import { bearerToken, verifyJwt } from "./jwt";
import { findAppIdByToken } from "./lookup";

export interface PresentedCredentials {
  authorization?: string;
  appToken?: string;
}

/** Establishes the caller from `Authorization: Bearer <jwt>` (preferred) or `app-token`. */
export async function authenticate(env: Env, headers: PresentedCredentials): Promise<Credential> {
  if (headers.authorization) {
    const token = bearerToken(headers.authorization);
    if (!token) throw unauthorized("authorization: expected 'Bearer <jwt>'");
    return verifyJwt(env, token);
  }
  if (headers.appToken) {
    const appId = await findAppIdByToken(env, headers.appToken);
    if (!appId) throw unauthorized("app-token: no app has this token");
    return { kind: "appToken", appId };
  }
  throw unauthorized("credentials: send an app-token header or 'Authorization: Bearer <jwt>'");
}
