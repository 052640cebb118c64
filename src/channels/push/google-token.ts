import { importPKCS8, SignJWT } from "jose";
import { config } from "../../config";
import type { IntegrationOf } from "../../db/integrations";
import { TtlCache } from "../../lib/ttl-cache";
import { errorCodes, failed, outcomeOf, postTo, type PushOutcome } from "./outcome";

const SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
/** An access token is dropped this long before Google says it expires. */
const EARLY_SECONDS = 60;

/** Access tokens by integration: an integration never changes, a new one has a new id. */
const tokens = new TtlCache<string>(1_000);

/** Forgets an access token the API refused: the next push asks for a new one. */
export const forgetAccessToken = (integrationId: string) => tokens.delete(integrationId);

/** The JWT-bearer grant (RFC 7523): the service account's claim, signed with its private key. */
async function grant(env: Env, fcm: IntegrationOf<"fcm">): Promise<string> {
  const key = await importPKCS8(fcm.secret.privateKey, "RS256");
  return new SignJWT({ scope: SCOPE })
    .setProtectedHeader({ alg: "RS256", typ: "JWT", ...(fcm.secret.privateKeyId ? { kid: fcm.secret.privateKeyId } : {}) })
    .setIssuer(fcm.public.clientEmail)
    .setAudience(config(env).push.googleTokenUrl)
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(key);
}

/**
 * An OAuth2 access token for FCM, from this isolate's cache or from GOOGLE_TOKEN_URL (whatever
 * token_uri the key file names: the endpoint is Parley's configuration, not the caller's).
 * A failure is the push's outcome: retried when the endpoint is down, failed when it refuses.
 */
export async function accessToken(env: Env, fcm: IntegrationOf<"fcm">): Promise<{ token: string } | { outcome: PushOutcome }> {
  const cached = tokens.peek(fcm.id);
  if (cached) return { token: cached.value };
  const response = await postTo("Google's token endpoint", config(env).push.googleTokenUrl, {
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion: await grant(env, fcm) }),
  });
  if (!(response instanceof Response)) return { outcome: response };
  if (!response.ok) {
    const [code] = await oauthError(response);
    return { outcome: outcomeOf(response, `Google's token endpoint answered ${response.status}${code ? ` ${code}` : ""}`, false) };
  }
  const body = (await response.json().catch(() => null)) as { access_token?: unknown; expires_in?: unknown } | null;
  if (typeof body?.access_token !== "string") return { outcome: failed("Google's token endpoint answered without an access_token", response.status) };
  const lifetime = typeof body.expires_in === "number" ? body.expires_in : 3600;
  tokens.set(fcm.id, body.access_token, Math.max(0, lifetime - EARLY_SECONDS));
  return { token: body.access_token };
}

/** OAuth2's `error` code (invalid_grant, ...), or FCM-style codes. */
async function oauthError(response: Response): Promise<string[]> {
  const text = await response.text().catch(() => "");
  try {
    const code = (JSON.parse(text) as { error?: unknown }).error;
    if (typeof code === "string" && /^[a-z_]{1,64}$/.test(code)) return [code];
  } catch {
    // not JSON
  }
  return errorCodes(new Response(text));
}
