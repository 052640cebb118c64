// Apps for every suite, made as an operator makes them: an account JWT, POST /v1/apps, then
// POST /v1/apps/{appId}/keys, then JWTs of that key. Runtime-neutral.
import { expectStatus, type Send } from "./http.ts";
import { accountJwt, bearer, sign, type Signer } from "./jwt.ts";

export interface App {
  appId: string;
  appToken: string;
  keyId: string;
  secret: string;
  /** The app-scope JWT of the key, minted once: the business's server. */
  appJwt: string;
  /** An appUser-scope JWT of the key for a userId, minted on each call. */
  userJwt: (userId: string) => Promise<string>;
  /** The app-token header: a device or browser. */
  token: Record<string, string>;
  /** The app-scope JWT header. */
  server: Record<string, string>;
  /** The appUser-scope JWT header for a userId. */
  user: (userId: string) => Promise<Record<string, string>>;
}

export interface CreateAppOptions {
  /** The app's name; "test app" unless given. */
  name?: string;
  /** The app's settings, sent only when given. */
  settings?: Record<string, unknown>;
  /** The key's name; "server" unless given. */
  keyName?: string;
  /** Expiry of every JWT minted here (account, app and user), as sign takes it; none unless given. */
  exp?: number | string;
  /** Whether those JWTs carry iat; true unless given. */
  iat?: boolean;
}

/** A key the account API made for an app: its id (the JWT kid) and secret. */
export interface Key {
  _id: string;
  secret: string;
  [field: string]: unknown;
}

/** POST /v1/apps/{appId}/keys with an account credential (`auth`): the new key. */
export async function createKey(send: Send, auth: Record<string, string>, appId: string, name = "server"): Promise<Key> {
  const { key } = await expectStatus(send, "POST", `/v1/apps/${appId}/keys`, auth, 201, { name });
  return key;
}

/** Creates an app and a key through the account API with the account key's credentials. */
export async function createApp(send: Send, account: Signer, options: CreateAppOptions = {}): Promise<App> {
  const { name = "test app", settings, keyName = "server", exp, iat } = options;
  const jwtOptions = { exp, iat };
  const auth = bearer(await accountJwt(account, jwtOptions));
  const { app } = await expectStatus(send, "POST", "/v1/apps", auth, 201, { name, ...(settings && { settings }) });
  const key = await createKey(send, auth, app._id, keyName);
  const userJwt = (userId: string) => sign({ scope: "appUser", userId }, key._id, key.secret, jwtOptions);
  const appJwt = await sign({ scope: "app" }, key._id, key.secret, jwtOptions);
  return {
    appId: app._id,
    appToken: app.appToken,
    keyId: key._id,
    secret: key.secret,
    appJwt,
    userJwt,
    token: { "app-token": app.appToken },
    server: bearer(appJwt),
    user: async (userId) => bearer(await userJwt(userId)),
  };
}
