import fc from "fast-check";
import { base64url, forgeJwt, hmac, segment, sign, type HmacAlg as Alg } from "../../../support/jwt.ts";
import { jsonText, oddString, PROTOTYPE_KEYS } from "./arbitraries";

/**
 * Credentials that identify no one: every one of them must be answered 401 by every
 * authenticated endpoint, with nothing changed. Built from recipes so that a failure shrinks to,
 * and prints, the recipe; signing needs WebCrypto and so happens when the recipe is turned into headers.
 */

/** What a recipe may use: a real key (the attacker's), another app's key, and the account key. */
export interface KeyRing {
  own: { kid: string; secret: string; appToken: string; appId: string };
  other: { kid: string; secret: string };
  account: { kid: string; secret: string };
}

const now = () => Math.floor(Date.now() / 1000);

/** Claim sets (as JSON text) that a correctly signed token may carry and still be refused. */
const DEFECTS = {
  expired: () => JSON.stringify({ scope: "app", exp: now() - 60 }),
  "not yet valid": () => JSON.stringify({ scope: "app", nbf: now() + 3600 }),
  "exp as text": () => JSON.stringify({ scope: "app", exp: String(now() + 3600) }),
  "iat as text": () => JSON.stringify({ scope: "app", iat: "yesterday" }),
  "no scope": () => "{}",
  "scope only in __proto__": () => '{"__proto__":{"scope":"app"}}',
  "scope in constructor": () => '{"constructor":{"scope":"app"}}',
  "scope account from an app key": () => JSON.stringify({ scope: "account" }),
  "scope in other case": () => JSON.stringify({ scope: "App" }),
  "scope as array": () => JSON.stringify({ scope: ["app"] }),
  "scope as object": () => JSON.stringify({ scope: { toString: "app" } }),
  "appUser without userId": () => JSON.stringify({ scope: "appUser" }),
  "appUser with empty userId": () => JSON.stringify({ scope: "appUser", userId: "" }),
  "appUser with numeric userId": () => JSON.stringify({ scope: "appUser", userId: 42 }),
  "appUser with object userId": () => JSON.stringify({ scope: "appUser", userId: { id: "alice" } }),
  "claims not an object": () => '["app"]',
  "claims not JSON": () => "scope=app",
} satisfies Record<string, () => string>;

export type CredentialRecipe =
  | { kind: "segments"; scheme: string; parts: string[] }
  | { kind: "forged"; header: string; payload: string; signature: "absent" | "empty" | "random" | "wrong secret" | "other key's secret"; alg: Alg }
  | { kind: "defective"; defect: keyof typeof DEFECTS; alg: Alg; key: "own" | "account"; extraHeader: string }
  | { kind: "mangled"; how: (typeof MANGLINGS)[number] }
  | { kind: "huge"; where: "token" | "kid" | "payload"; length: number }
  | { kind: "appToken"; value: string }
  | { kind: "appTokenLike"; how: (typeof TOKEN_MANGLINGS)[number] }
  | { kind: "both"; authorization: string };

/** A valid JWT of the attacker's, broken in the header's framing or in its bytes. */
const MANGLINGS = [
  "basic scheme",
  "token scheme",
  "no scheme",
  "bearer twice",
  "two tokens",
  "header repeated",
  "extra segment",
  "signature truncated",
  "signature bit flipped",
  "payload replaced",
  "header replaced",
  "alg none, signature kept",
  "segments swapped",
  "padding added",
  "standard base64",
] as const;

/** The attacker's app token, made not quite right. */
const TOKEN_MANGLINGS = [
  "one more char",
  "one char less",
  "upper case",
  "repeated header",
  "app id instead",
  "key id instead",
  "key secret instead",
  "as a bearer token",
  "empty",
] as const;

const asciiHeaderChar = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
const headerText = (maxLength: number) => fc.string({ unit: asciiHeaderChar, maxLength });
const b64urlChars = fc.string({ unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), maxLength: 60 });

/** Header JSON for a forged token: every field of interest, each with hostile values. */
const forgedHeader = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record(
        {
          // Objects whose toString is not a function cannot even be put in an error message.
          alg: fc.constantFrom("none", "None", "HS256", "hs256", "RS256", "ES256", "PS256", "HS1", "", 1, null, ["HS256"], {}, { toString: "HS256" }),
          kid: fc.constantFrom("own", "other", "account", "unknown", "", 7, null, ["own"], { id: "own" }, { toString: 1 }, "__proto__", "constructor", "../own"),
          typ: fc.constantFrom("JWT", "at+jwt", 0),
          crit: fc.constantFrom(["exp"], ["b64"], [], "b64"),
          b64: fc.constantFrom(false, true, "false"),
          jku: fc.constantFrom("https://attacker.invalid/jwks"),
        },
        { requiredKeys: ["alg", "kid"] },
      )
      .chain((fields) => fc.constantFrom(...PROTOTYPE_KEYS, "x").map((extra) => ({ ...fields, [extra]: { alg: "HS256" } })))
      .map((fields) => JSON.stringify(fields)),
  },
  { weight: 1, arbitrary: jsonText },
  { weight: 1, arbitrary: fc.constantFrom('{"alg":"none","alg":"HS256","kid":"own"}', '{"kid":"own"}', "not json", "", "null", "[]") },
);

const forgedPayload = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .record(
        {
          scope: fc.constantFrom("app", "appUser", "account", "ACCOUNT", "", null, ["app"]),
          userId: fc.oneof(fc.constantFrom("alice", "", "__proto__"), oddString.filter((s) => s.length < 2000)),
          exp: fc.constantFrom(now() + 3600, 0, -1, "x", 1e309),
        },
        { requiredKeys: ["scope"] },
      )
      .map((claims) => JSON.stringify(claims)),
  },
  { weight: 1, arbitrary: jsonText },
  { weight: 1, arbitrary: fc.constant('{"__proto__":{"scope":"account"},"scope":"app"}') },
);

export const credentialRecipe: fc.Arbitrary<CredentialRecipe> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .record({
        scheme: fc.constantFrom("Bearer ", "bearer ", "Bearer\t", "Bearer  ", "BEARER ", "Bearer", "Bearer:", ""),
        parts: fc.array(fc.oneof(b64urlChars, headerText(20)), { maxLength: 5 }),
      })
      .map((r) => ({ kind: "segments" as const, ...r })),
  },
  {
    weight: 4,
    arbitrary: fc
      .record({
        header: forgedHeader,
        payload: forgedPayload,
        signature: fc.constantFrom("absent", "empty", "random", "wrong secret", "other key's secret"),
        alg: fc.constantFrom("HS256", "HS384", "HS512"),
      })
      .map((r) => ({ kind: "forged" as const, ...r })),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({
        defect: fc.constantFrom(...(Object.keys(DEFECTS) as (keyof typeof DEFECTS)[])),
        alg: fc.constantFrom("HS256", "HS384", "HS512"),
        key: fc.constantFrom("own", "account"),
        extraHeader: fc.constantFrom("", "__proto__", "constructor"),
      })
      // The account key signs only account scope: any other claim set from it is a defect too.
      .filter((r) => r.key === "own" || r.defect !== "scope account from an app key")
      .map((r) => ({ kind: "defective" as const, ...r })),
  },
  { weight: 3, arbitrary: fc.constantFrom(...MANGLINGS).map((how) => ({ kind: "mangled" as const, how })) },
  {
    weight: 1,
    arbitrary: fc
      .record({ where: fc.constantFrom("token", "kid", "payload"), length: fc.constantFrom(1_000, 8_192, 16_385, 65_536) })
      .map((r) => ({ kind: "huge" as const, ...r })),
  },
  { weight: 2, arbitrary: headerText(300).map((value) => ({ kind: "appToken" as const, value })) },
  // Not ASCII: workerd sends such header values as UTF-8 (and warns that a browser would refuse them).
  { weight: 1, arbitrary: fc.constantFrom("tökén", "😀", "\u00ff\u00fe").map((value) => ({ kind: "appToken" as const, value })) },
  { weight: 2, arbitrary: fc.constantFrom(...TOKEN_MANGLINGS).map((how) => ({ kind: "appTokenLike" as const, how })) },
  { weight: 1, arbitrary: headerText(80).map((authorization) => ({ kind: "both" as const, authorization: `Bearer ${authorization}.x.y` })) },
);

const kidFor = (name: unknown, keys: KeyRing): unknown =>
  name === "own" ? keys.own.kid : name === "other" ? keys.other.kid : name === "account" ? keys.account.kid : Array.isArray(name) ? [keys.own.kid] : name;

/** The attacker's own app-scope JWT, signed as it should be (no iat: the claims are just the scope). */
const validJwt = (keys: KeyRing, payload: Record<string, unknown> = { scope: "app" }) =>
  sign(payload, keys.own.kid, keys.own.secret, { iat: false });

async function mangle(how: (typeof MANGLINGS)[number], keys: KeyRing): Promise<[string, string][]> {
  const jwt = await validJwt(keys);
  const [header, payload, signature] = jwt.split(".");
  const flipped = signature.slice(0, -2) + (signature.at(-2) === "A" ? "B" : "A") + signature.at(-1);
  const bearer = (token: string): [string, string][] => [["authorization", `Bearer ${token}`]];
  switch (how) {
    case "basic scheme":
      return [["authorization", `Basic ${btoa(`${keys.own.kid}:${keys.own.secret}`)}`]];
    case "token scheme":
      return [["authorization", `Token ${jwt}`]];
    case "no scheme":
      return [["authorization", jwt]];
    case "bearer twice":
      return [["authorization", `Bearer Bearer ${jwt}`]];
    case "two tokens":
      return [["authorization", `Bearer ${jwt} ${jwt}`]];
    case "header repeated":
      return [["authorization", `Bearer ${jwt}`], ["authorization", `Bearer ${jwt}`]];
    case "extra segment":
      return bearer(`${jwt}.${signature}`);
    case "signature truncated":
      return bearer(jwt.slice(0, -3));
    case "signature bit flipped":
      return bearer(`${header}.${payload}.${flipped}`);
    case "payload replaced":
      return bearer(`${header}.${segment(JSON.stringify({ scope: "account" }))}.${signature}`);
    case "header replaced":
      return bearer(`${segment(JSON.stringify({ alg: "HS512", kid: keys.own.kid }))}.${payload}.${signature}`);
    case "alg none, signature kept":
      return bearer(`${segment(JSON.stringify({ alg: "none", kid: keys.own.kid }))}.${payload}.${signature}`);
    case "segments swapped":
      return bearer(`${payload}.${header}.${signature}`);
    case "padding added":
      return bearer(`${header}==.${payload}.${signature}`);
    case "standard base64":
      return bearer(`${header}.${payload}.${signature.replace(/-/g, "+").replace(/_/g, "/")}+/`);
  }
}

function mangleToken(how: (typeof TOKEN_MANGLINGS)[number], keys: KeyRing): [string, string][] {
  const token = keys.own.appToken;
  const values: Record<(typeof TOKEN_MANGLINGS)[number], [string, string][]> = {
    "one more char": [["app-token", `${token}x`]],
    "one char less": [["app-token", token.slice(0, -1)]],
    "upper case": [["app-token", token.toUpperCase() === token ? token.toLowerCase() : token.toUpperCase()]],
    "repeated header": [["app-token", token], ["app-token", token]],
    "app id instead": [["app-token", keys.own.appId]],
    "key id instead": [["app-token", keys.own.kid]],
    "key secret instead": [["app-token", keys.own.secret]],
    "as a bearer token": [["authorization", `Bearer ${token}`]],
    empty: [["app-token", ""]],
  };
  return values[how];
}

/** The request headers of a recipe, as name/value pairs (a name may repeat). */
export async function credentialHeaders(recipe: CredentialRecipe, keys: KeyRing): Promise<[string, string][]> {
  switch (recipe.kind) {
    case "segments":
      return [["authorization", `${recipe.scheme}${recipe.parts.join(".")}`]];
    case "forged": {
      let headerJson = recipe.header;
      try {
        const parsed = JSON.parse(recipe.header);
        if (parsed && typeof parsed === "object" && "kid" in parsed) headerJson = JSON.stringify({ ...parsed, kid: kidFor(parsed.kid, keys) });
      } catch {
        // Not JSON: sent as it is.
      }
      const input = `${segment(headerJson)}.${segment(recipe.payload)}`;
      const signatures = {
        absent: null,
        empty: "",
        random: base64url(crypto.getRandomValues(new Uint8Array(32))),
        "wrong secret": await hmac(recipe.alg, "not-the-secret", input),
        "other key's secret": await hmac(recipe.alg, keys.other.secret, input),
      };
      const signature = signatures[recipe.signature];
      return [["authorization", `Bearer ${signature === null ? input : `${input}.${signature}`}`]];
    }
    case "defective": {
      const key = recipe.key === "own" ? keys.own : keys.account;
      const header: Record<string, unknown> = { alg: recipe.alg, kid: key.kid };
      if (recipe.extraHeader) Object.defineProperty(header, recipe.extraHeader, { value: "x", enumerable: true });
      return [["authorization", `Bearer ${await forgeJwt(JSON.stringify(header), DEFECTS[recipe.defect](), key.secret, recipe.alg)}`]];
    }
    case "mangled":
      return mangle(recipe.how, keys);
    case "huge": {
      const filler = "A".repeat(recipe.length);
      if (recipe.where === "token") return [["authorization", `Bearer ${filler}`]];
      const header = { alg: "HS256", kid: recipe.where === "kid" ? filler : keys.own.kid };
      const payload = { scope: "app", pad: recipe.where === "payload" ? filler : "" };
      return [["authorization", `Bearer ${await forgeJwt(JSON.stringify(header), JSON.stringify(payload), "not-the-secret")}`]];
    }
    case "appToken":
      return [["app-token", recipe.value]];
    case "appTokenLike":
      return mangleToken(recipe.how, keys);
    case "both":
      return [["authorization", recipe.authorization], ["app-token", keys.own.appToken]];
  }
}
