// A fake Cloudflare Access team for the Desk's tests: its key set served on a loopback team domain
// (globalThis.fetch intercepted), and Access tokens signed with its key or a stranger's.
import { env } from "cloudflare:test";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from "jose";
import { vi } from "vitest";

export const TEAM = "http://127.0.0.1:9931";
export const AUD = "desk-audience-tag";
/** The Desk's origin in these tests. */
export const DESK = "https://desk.example.com";
export const accessEnv = { ...env, ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: AUD };

export interface TokenOptions {
  key?: CryptoKey;
  kid?: string;
  aud?: string;
  iss?: string;
  exp?: number | string;
  nbf?: number | string;
  email?: string | null;
}

/** Serves the team's key set until the test file's mocks are restored; returns how tokens are signed. */
export async function fakeAccessTeam() {
  const team = await generateKeyPair("RS256", { extractable: true });
  const strangerKey = (await generateKeyPair("RS256")).privateKey;
  const jwk = { ...(await exportJWK(team.publicKey)), kid: "team-key-1", alg: "RS256", use: "sig" };
  const served = { certFetches: 0 };
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = new Request(input, init).url;
    if (url === `${TEAM}/cdn-cgi/access/certs`) {
      served.certFetches++;
      return Response.json({ keys: [jwk] });
    }
    return realFetch(input, init);
  });

  /** An Access token: by default the team's, for Ana, valid five minutes. */
  function accessToken(options: TokenOptions = {}) {
    const { key = team.privateKey, kid = "team-key-1", aud = AUD, iss = TEAM, exp = "5m", email = "Ana@example.com" } = options;
    const jwt = new SignJWT(email === null ? {} : { email }).setProtectedHeader({ alg: "RS256", kid }).setIssuer(iss).setAudience(aud).setIssuedAt().setExpirationTime(exp);
    if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
    return jwt.sign(key);
  }
  return { accessToken, strangerKey, served };
}
