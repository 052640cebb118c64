import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from "jose";
import { unauthorized } from "../errors";
import type { Credential } from "./credential";
import { findSigner } from "./lookup";

const ALGORITHMS = ["HS256", "HS384", "HS512"];
const encoder = new TextEncoder();

/** A claim or header value for an error message; String() throws on objects whose toString is not a function. */
const shown = (value: unknown) => (typeof value === "string" ? value : (JSON.stringify(value) ?? ""));

function readHeader(token: string) {
  try {
    return decodeProtectedHeader(token);
  } catch {
    throw unauthorized("authorization: the bearer token is not a well-formed JWT");
  }
}

async function verifySignature(token: string, secret: string): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, encoder.encode(secret), { algorithms: ALGORITHMS });
    return payload;
  } catch (error) {
    if (error instanceof errors.JWTExpired) throw unauthorized("authorization: the JWT has expired");
    if (error instanceof errors.JWTClaimValidationFailed) {
      throw unauthorized(`authorization: the JWT claim ${error.claim} is not valid (${error.reason})`);
    }
    throw unauthorized("authorization: the JWT signature does not verify");
  }
}

/** Verifies a bearer JWT: HMAC only, a known `kid`, a valid signature and a known scope. */
export async function verifyJwt(env: Env, token: string): Promise<Credential> {
  const header = readHeader(token);
  if (!header.alg || !ALGORITHMS.includes(header.alg)) {
    throw unauthorized(`authorization: JWT alg '${shown(header.alg)}' is not accepted; use ${ALGORITHMS.join(", ")}`);
  }
  if (typeof header.kid !== "string" || header.kid === "") {
    throw unauthorized("authorization: the JWT header has no kid");
  }
  const signer = await findSigner(env, header.kid);
  if (!signer) throw unauthorized(`authorization: no key with kid '${header.kid}'`);
  const payload = await verifySignature(token, signer.secret);
  const scope = payload.scope;

  if (signer.appId === null) {
    if (scope !== "account") throw unauthorized("authorization: the account key signs only account-scope JWTs");
    return { kind: "jwt", scope: "account", keyId: header.kid };
  }
  if (scope === "app") return { kind: "jwt", scope: "app", appId: signer.appId, keyId: header.kid };
  if (scope === "appUser") {
    if (typeof payload.userId !== "string" || payload.userId === "") {
      throw unauthorized("authorization: an appUser-scope JWT must carry a userId");
    }
    return { kind: "jwt", scope: "appUser", appId: signer.appId, keyId: header.kid, userId: payload.userId };
  }
  throw unauthorized(`authorization: JWT scope '${shown(scope)}' is not one of appUser, app`);
}
