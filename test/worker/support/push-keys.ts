// Keys for push channel tests, generated with WebCrypto as Google and Apple would issue them:
// an RSA service account key file, an APNs .p8 key, and a browser's push subscription.
import { base64url } from "jose";

const pem = (der: ArrayBuffer) =>
  `-----BEGIN PRIVATE KEY-----\n${btoa(String.fromCharCode(...new Uint8Array(der))).replace(/(.{64})/g, "$1\n")}\n-----END PRIVATE KEY-----\n`;

async function pkcs8(pair: CryptoKeyPair) {
  return pem((await crypto.subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer);
}

/** A service account key file and the public key that verifies its grants. */
export async function serviceAccount(projectId = "parley-test") {
  const pair = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  const file = {
    type: "service_account",
    project_id: projectId,
    private_key_id: "0123456789abcdef0123456789abcdef01234567",
    private_key: await pkcs8(pair),
    client_email: `parley@${projectId}.iam.gserviceaccount.com`,
    client_id: "100000000000000000000",
    auth_uri: "https://accounts.google.com/o/oauth2/auth",
    token_uri: "https://oauth2.googleapis.com/token",
  };
  return { file, publicKey: pair.publicKey };
}

/** An APNs token key (.p8) and the public key that verifies its provider tokens. */
export async function apnsKey() {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  return { pem: await pkcs8(pair), publicKey: pair.publicKey };
}

/** A browser's push subscription: what it registers as its token, and the keys to read what it receives. */
export async function pushSubscription(endpoint: string) {
  const pair = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"])) as CryptoKeyPair;
  const publicKey = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  const auth = crypto.getRandomValues(new Uint8Array(16));
  const subscription = { endpoint, keys: { p256dh: base64url.encode(publicKey), auth: base64url.encode(auth) } };
  return { subscription, token: JSON.stringify(subscription), privateKey: pair.privateKey, publicKey, auth };
}
