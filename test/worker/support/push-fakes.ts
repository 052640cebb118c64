// Loopback fakes of Google's token endpoint, FCM and APNs, and a browser's push service: each
// checks what a real one would (the grant's and the provider token's signatures with the public
// keys the test generated, the VAPID signature, the payload's encryption) and answers as told.
import { base64url, decodeProtectedHeader, importJWK, jwtVerify } from "jose";
import { expect } from "vitest";
import { interceptFetch, type SentRequest } from "./helpers";

export const HOSTS = { token: "https://oauth.test/token", fcm: "https://fcm.test", apns: "https://apns.test" };

/** The variables that point the push clients at the fakes. */
export const fakeEndpoints = { GOOGLE_TOKEN_URL: HOSTS.token, FCM_API_URL: HOSTS.fcm, APNS_API_URL: HOSTS.apns };

export interface FakeKeys {
  serviceAccount?: { publicKey: CryptoKey; clientEmail: string; keyId: string };
  apns?: { publicKey: CryptoKey; keyId: string; teamId: string };
}

type Answer = (sent: SentRequest) => Response | Promise<Response>;

export interface Fakes {
  sent: SentRequest[];
  /** Access tokens the token endpoint issued, in order. */
  issued: string[];
  /** How FCM, APNs and push services answer next; 200 unless set. */
  answer: { token?: Answer; fcm?: Answer; apns?: Answer; push?: Answer };
  of: (host: keyof typeof HOSTS | "push") => SentRequest[];
}

const ok = () => new Response(JSON.stringify({ name: "projects/parley-test/messages/1" }), { headers: { "content-type": "application/json" } });

export function fakeProviders(keys: FakeKeys): Fakes {
  const fakes: Fakes = {
    sent: [],
    issued: [],
    answer: {},
    of: (host) =>
      fakes.sent.filter((s) => (host === "push" ? !Object.values(HOSTS).some((h) => s.url.startsWith(h)) : s.url.startsWith(HOSTS[host]))),
  };
  const { sent } = interceptFetch(async (request) => {
    if (request.url === HOSTS.token) return tokenEndpoint(request);
    if (request.url.startsWith(HOSTS.fcm)) return fcm(request);
    if (request.url.startsWith(HOSTS.apns)) return apns(request);
    return (fakes.answer.push ?? (() => new Response(null, { status: 201 })))(request);
  });
  fakes.sent = sent;

  async function tokenEndpoint(request: SentRequest) {
    if (fakes.answer.token) return fakes.answer.token(request);
    const form = new URLSearchParams(request.body);
    expect(form.get("grant_type")).toBe("urn:ietf:params:oauth:grant-type:jwt-bearer");
    const assertion = form.get("assertion")!;
    const account = keys.serviceAccount!;
    const { payload } = await jwtVerify(assertion, account.publicKey, { issuer: account.clientEmail, audience: HOSTS.token, algorithms: ["RS256"] });
    expect(payload.scope).toBe("https://www.googleapis.com/auth/firebase.messaging");
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(3600);
    expect(decodeProtectedHeader(assertion).kid).toBe(account.keyId);
    const token = `ya29.fake-${fakes.issued.length + 1}`;
    fakes.issued.push(token);
    return Response.json({ access_token: token, expires_in: 3599, token_type: "Bearer" });
  }

  async function fcm(request: SentRequest) {
    expect(fakes.issued.map((token) => `Bearer ${token}`)).toContain(request.headers.get("authorization"));
    return (fakes.answer.fcm ?? ok)(request);
  }

  async function apns(request: SentRequest) {
    const apn = keys.apns!;
    const jwt = request.headers.get("authorization")!.replace(/^bearer /, "");
    const { payload, protectedHeader } = await jwtVerify(jwt, apn.publicKey, { issuer: apn.teamId, algorithms: ["ES256"] });
    expect(protectedHeader.kid).toBe(apn.keyId);
    expect(Date.now() / 1000 - payload.iat!).toBeLessThan(3600);
    return (fakes.answer.apns ?? (() => new Response(null, { status: 200 })))(request);
  }

  return fakes;
}

export const jsonError = (status: number, body: unknown, headers: Record<string, string> = {}) => () =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

/** FCM HTTP v1's error body, as Google writes it. */
export const fcmError = (status: number, code: string, errorCode?: string, headers: Record<string, string> = {}) =>
  jsonError(
    status,
    { error: { code: status, message: "error", status: code, details: errorCode ? [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode }] : [] } },
    headers,
  );

// --- Web Push: what a browser does with what it receives --------------------------------------

const enc = new TextEncoder();
const join = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
};
async function hmacSha256(key: Uint8Array, data: Uint8Array) {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, data));
}
const expand = async (salt: Uint8Array, ikm: Uint8Array, info: Uint8Array, length: number) =>
  (await hmacSha256(await hmacSha256(salt, ikm), join(info, new Uint8Array([1])))).slice(0, length);

/** Decrypts an aes128gcm Web Push body (RFC 8291, RFC 8188) with the subscription's private key and auth secret. */
export async function decryptPush(
  body: Uint8Array,
  receiver: { privateKey: CryptoKey; publicKey: Uint8Array; auth: Uint8Array },
): Promise<string> {
  const salt = body.slice(0, 16);
  const recordSize = new DataView(body.buffer, body.byteOffset).getUint32(16);
  expect(recordSize).toBeGreaterThanOrEqual(body.length - 86);
  const idLength = body[20];
  const senderKey = body.slice(21, 21 + idLength);
  const ciphertext = body.slice(21 + idLength);
  const sender = await crypto.subtle.importKey("raw", senderKey, { name: "ECDH", namedCurve: "P-256" }, false, []);
  const algorithm = { name: "ECDH", public: sender } as unknown as SubtleCryptoDeriveKeyAlgorithm;
  const shared = new Uint8Array(await crypto.subtle.deriveBits(algorithm, receiver.privateKey, 256));
  const ikm = await expand(receiver.auth, shared, join(enc.encode("WebPush: info\0"), receiver.publicKey, senderKey), 32);
  const cek = await expand(salt, ikm, enc.encode("Content-Encoding: aes128gcm\0"), 16);
  const nonce = await expand(salt, ikm, enc.encode("Content-Encoding: nonce\0"), 12);
  const key = await crypto.subtle.importKey("raw", cek, "AES-GCM", false, ["decrypt"]);
  const plain = new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: nonce }, key, ciphertext));
  // The last record ends with 0x02, then optional zero padding.
  let end = plain.length - 1;
  while (plain[end] === 0) end--;
  expect(plain[end]).toBe(2);
  return new TextDecoder().decode(plain.slice(0, end));
}

/** Checks a VAPID Authorization header (RFC 8292) and returns its claims. */
export async function verifyVapid(header: string, endpoint: string, vapidPublicKey: string) {
  const match = /^vapid t=([^,]+), k=(.+)$/.exec(header);
  expect(match, header).not.toBeNull();
  expect(match![2]).toBe(vapidPublicKey);
  const raw = base64url.decode(vapidPublicKey);
  const key = await importJWK(
    { kty: "EC", crv: "P-256", x: base64url.encode(raw.slice(1, 33)), y: base64url.encode(raw.slice(33, 65)) },
    "ES256",
  );
  const { payload } = await jwtVerify(match![1], key, { audience: new URL(endpoint).origin, algorithms: ["ES256"] });
  expect(payload.exp! - Date.now() / 1000).toBeLessThanOrEqual(24 * 3600);
  return payload;
}
