import { describe, expect, it } from "vitest";
import { bearer, sign } from "../support/jwt.ts";
import { call, createApp, device, expectError } from "../worker/support/helpers";

// Issue 11, item 4: failed authentications are limited per client address and per JWT kid.
// The failure budget here is production's (vitest.config.ts): 20 a minute.
const FAILURES = 20;

let serial = 0;
const address = () => `198.51.100.${++serial}`;
const init = (auth: Record<string, string>, from: string) =>
  call("POST", "/v1/init", { ...auth, "cf-connecting-ip": from }, { body: { device: device("d") } });

describe("guessing credentials", () => {
  it("allows 20 failures a minute from one address, then answers 429 with Retry-After, even to a valid credential", async () => {
    const app = await createApp("guessed");
    const from = address();
    for (let i = 0; i < FAILURES; i++) {
      expect((await init({ "app-token": `guess-${i}` }, from)).status, `guess ${i}`).toBe(401);
    }
    const refused = await init({ "app-token": "guess-over" }, from);
    expectError(refused, 429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    // From that address nothing is checked any more this minute: a right guess learns nothing.
    expectError(await init(app.token, from), 429);
    // Another address is unaffected.
    expect((await init(app.token, address())).status).toBe(200);
  });

  it("counts JWT failures of one kid across addresses; the key's valid JWTs keep working", async () => {
    const app = await createApp("kid guessed");
    for (let i = 0; i < FAILURES; i++) {
      const forged = bearer(await sign({ scope: "app" }, app.keyId, `not-the-secret-${i}`));
      expect((await call("GET", "/v1/webhooks", { ...forged, "cf-connecting-ip": address() })).status, `forgery ${i}`).toBe(401);
    }
    const forged = bearer(await sign({ scope: "app" }, app.keyId, "not-the-secret"));
    expectError(await call("GET", "/v1/webhooks", { ...forged, "cf-connecting-ip": address() }), 429);
    expect((await call("GET", "/v1/webhooks", { ...app.server, "cf-connecting-ip": address() })).status).toBe(200);
  });

  it("counts one stale credential repeated as one failure", async () => {
    const app = await createApp("stale token");
    const from = address();
    for (let i = 0; i <= 2 * FAILURES; i++) expect((await init({ "app-token": "rotated-long-ago" }, from)).status, `retry ${i}`).toBe(401);
    expect((await init(app.token, from)).status).toBe(200);
  });

  it("counts failures of a JWT naming an app's key against that app at the address, not the address's other apps", async () => {
    const [stale, other] = await Promise.all([createApp("stale JWTs"), createApp("bystander")]);
    const from = address();
    for (let i = 0; i < FAILURES; i++) {
      const forged = bearer(await sign({ scope: "app" }, stale.keyId, `old-secret-${i}`));
      expect((await call("GET", "/v1/webhooks", { ...forged, "cf-connecting-ip": from })).status, `forgery ${i}`).toBe(401);
    }
    const forged = bearer(await sign({ scope: "app" }, stale.keyId, "old-secret-over"));
    expectError(await call("GET", "/v1/webhooks", { ...forged, "cf-connecting-ip": from }), 429);
    // The same address, another app: unaffected.
    expect((await init(other.token, from)).status).toBe(200);
  });

  it("does not count requests without any credential", async () => {
    const from = address();
    for (let i = 0; i <= FAILURES; i++) expect((await call("GET", "/v1/webhooks", { "cf-connecting-ip": from })).status).toBe(401);
  });
});
