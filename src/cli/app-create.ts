// npm run app:create -- --name NAME [--url URL]: an app, a key and an app-scope JWT through the account API.
import { accountJwt, callAccountApi, cliArgs, CliError, DEFAULT_URL, runCli } from "./account-api.ts";

const USAGE = `usage: npm run app:create -- --name NAME [--url URL]

Creates an app and a secret key through the account API of the Parley at URL (default ${DEFAULT_URL}),
signed with ACCOUNT_KEY_ID and ACCOUNT_SECRET from .dev.vars (or the environment), and prints
{"appId","appToken","keyId","secret","appJwt"}: appJwt is an app-scope JWT signed with the key, to
answer as the business (role "appMaker").`;

const values = cliArgs(USAGE, { name: { type: "string" } });

runCli(async () => {
  if (!values.name) throw new CliError(`--name is required\n${USAGE}`);
  const jwt = await accountJwt();
  const call = <T>(method: string, path: string, body?: unknown) => callAccountApi<T>(values.url, jwt, method, path, body);
  const { app } = await call<{ app: { _id: string; appToken: string } }>("POST", "/v1/apps", { name: values.name });
  const { key } = await call<{ key: { _id: string; secret: string } }>("POST", `/v1/apps/${app._id}/keys`, { name: "default" });
  const { jwt: appJwt } = await call<{ jwt: string }>("GET", `/v1/apps/${app._id}/keys/${key._id}/jwt`);
  console.log(JSON.stringify({ appId: app._id, appToken: app.appToken, keyId: key._id, secret: key.secret, appJwt }));
});
