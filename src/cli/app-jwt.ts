// npm run app:jwt -- --app ID --key ID [--url URL]: an app-scope JWT signed with one of the app's keys.
import { accountJwt, callAccountApi, cliArgs, CliError, DEFAULT_URL, runCli } from "./account-api.ts";

const USAGE = `usage: npm run app:jwt -- --app APP_ID --key KEY_ID [--url URL]

Prints an app-scope JWT signed with the key KEY_ID of the app APP_ID (both as app:create printed
them), asked of the account API of the Parley at URL (default ${DEFAULT_URL}) with ACCOUNT_KEY_ID and
ACCOUNT_SECRET from .dev.vars (or the environment). Send it as "Authorization: Bearer <jwt>" to
answer as the business (role "appMaker").`;

const values = cliArgs(USAGE, { app: { type: "string" }, key: { type: "string" } });

runCli(async () => {
  if (!values.app || !values.key) throw new CliError(`--app and --key are required\n${USAGE}`);
  const path = `/v1/apps/${encodeURIComponent(values.app)}/keys/${encodeURIComponent(values.key)}/jwt`;
  const { jwt } = await callAccountApi<{ jwt: string }>(values.url, await accountJwt(), "GET", path);
  console.log(jwt);
});
