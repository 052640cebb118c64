// npm run app:create -- --name NAME [--url URL]: an app and a key through the account API.
import { parseArgs } from "node:util";
import { SignJWT } from "jose";
import { readDevVars } from "./dev-vars.ts";

const { values } = parseArgs({
  options: {
    name: { type: "string" },
    url: { type: "string", default: "http://127.0.0.1:8787" },
  },
});
if (!values.name) {
  console.error("usage: npm run app:create -- --name NAME [--url URL]");
  process.exit(2);
}

const vars = { ...readDevVars(), ...process.env };
const keyId = vars.ACCOUNT_KEY_ID;
const secret = vars.ACCOUNT_SECRET;
if (!keyId || !secret) {
  console.error("ACCOUNT_KEY_ID and ACCOUNT_SECRET are needed: run npm run dev once, or set them in the environment.");
  process.exit(2);
}

const jwt = await new SignJWT({ scope: "account" })
  .setProtectedHeader({ alg: "HS256", kid: keyId })
  .setIssuedAt()
  .setExpirationTime("5m")
  .sign(new TextEncoder().encode(secret));

async function post(path: string, body: unknown) {
  const response = await fetch(new URL(path, values.url), {
    method: "POST",
    headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

const { app } = await post("/v1/apps", { name: values.name });
const { key } = await post(`/v1/apps/${app._id}/keys`, { name: "default" });
console.log(JSON.stringify({ appId: app._id, appToken: app.appToken, keyId: key._id, secret: key.secret }));
