import { createRemoteJWKSet, jwtVerify } from "jose";
import { normalEmail } from "../agents/agents";
import { config } from "../config";
import { notFound, unauthorized } from "../errors";
import { isLoopbackHost } from "../lib/loopback";

/** Who is using the Desk: an address Cloudflare Access signed in, or the local agent of `npm run dev`. */
export type DeskIdentity = { kind: "access"; email: string; expiresAt?: number } | { kind: "local"; email: string; name: string };

/** Without Access, on a loopback host: an agent of every app. */
export const LOCAL_AGENT = { kind: "local", email: "agent@localhost", name: "Local agent" } as const;

/**
 * The team's key set, one per isolate and team domain: jose caches the keys and fetches them again
 * when a token names a `kid` it does not hold (at most every 30 s), so a key rotation needs no deploy.
 */
const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

function keySetOf(teamDomain: string) {
  let keySet = keySets.get(teamDomain);
  if (!keySet) {
    keySet = createRemoteJWKSet(new URL(`${teamDomain}/cdn-cgi/access/certs`));
    keySets.set(teamDomain, keySet);
  }
  return keySet;
}

/** The Access token: the header Access adds to every request it lets through, else its cookie. */
function accessToken(request: Request): string | undefined {
  const header = request.headers.get("cf-access-jwt-assertion");
  if (header) return header;
  const cookies = request.headers.get("cookie") ?? "";
  for (const part of cookies.split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === "CF_Authorization" && value.length > 0) return value.join("=");
  }
  return undefined;
}

/**
 * Who the request comes from. With Access configured: its token verified (RS256 by the team's keys,
 * `iss` the team domain, `aud` holding the Desk's audience tag, within `exp`/`nbf`), else 401.
 * Without: the local agent on a loopback host, and 404 anywhere else, as for a path that does not exist.
 */
export async function deskIdentity(env: Env, request: Request): Promise<DeskIdentity> {
  const access = config(env).access;
  const url = new URL(request.url);
  if (!access) {
    // A loopback host is only what the Host header says: with the dev server reachable from the
    // network (DEMO_SECRET set by `npm run dev -- --ip ...`), a peer could claim one, so the local
    // agent is offered only while the server listens on this machine alone.
    if (!isLoopbackHost(url.hostname) || config(env).demoSecret !== null) throw notFound(`path: no route for ${request.method} ${url.pathname}`);
    return LOCAL_AGENT;
  }
  const token = accessToken(request);
  if (!token) throw unauthorized("Cf-Access-Jwt-Assertion: sign in through Cloudflare Access");
  let email: unknown;
  let expiresAt: number | undefined;
  try {
    const { payload } = await jwtVerify(token, keySetOf(access.teamDomain), {
      algorithms: ["RS256"],
      issuer: access.teamDomain,
      audience: access.audience,
    });
    email = payload.email;
    expiresAt = payload.exp;
  } catch {
    throw unauthorized("Cf-Access-Jwt-Assertion: not a valid Access token for this Desk");
  }
  if (typeof email !== "string" || email === "") throw unauthorized("Cf-Access-Jwt-Assertion: the token names no email");
  // Its `exp` (unix seconds) bounds what the token opened: the Desk's realtime socket closes then.
  return { kind: "access", email: normalEmail(email), expiresAt };
}
