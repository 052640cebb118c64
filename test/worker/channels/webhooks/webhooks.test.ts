import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  account,
  call,
  createApp,
  expectError,
  hexId,
  interceptFetch,
  invalidCredentials,
  runQueue,
  type TestApp,
} from "../../support/helpers";

const HEX24 = /^[0-9a-f]{24}$/;
const TARGET = "https://hooks.example.com/parley";

let app: TestApp;
let other: TestApp;

beforeAll(async () => {
  [app, other] = await Promise.all([createApp("webhooks"), createApp("another app")]);
});

afterEach(async () => {
  vi.restoreAllMocks();
  // Every test starts below the 10-webhook limit.
  const { json } = await call("GET", "/v1/webhooks", app.server);
  await Promise.all(json.webhooks.map((w: { _id: string }) => call("DELETE", `/v1/webhooks/${w._id}`, app.server)));
});

const create = (body: unknown, auth: Record<string, string> = app.server) => call("POST", "/v1/webhooks", auth, { body });

/** A new webhook as later reads show it: without the signing secret, which only creation returns. */
async function created(body: Record<string, unknown> = { target: TARGET }, owner: TestApp = app) {
  const response = await create(body, owner.server);
  expect(response.status, JSON.stringify(response.json)).toBe(201);
  const { signingSecret, ...webhook } = response.json.webhook;
  expect(signingSecret).toMatch(/^[0-9a-f]{64}$/);
  return webhook;
}

describe("webhook CRUD with an app JWT", () => {
  it("creates a webhook with the default trigger and a 40-hex secret", async () => {
    const webhook = await created({ target: "http://example.com/callback" });
    expect(webhook).toEqual({
      _id: expect.stringMatching(HEX24),
      triggers: ["message"],
      secret: expect.stringMatching(/^[0-9a-f]{40}$/),
      target: "http://example.com/callback",
    });
  });

  it("gives every webhook its own secret", async () => {
    const [a, b] = [await created(), await created()];
    expect(a.secret).not.toBe(b.secret);
    await Promise.all([a, b].map((w) => call("DELETE", `/v1/webhooks/${w._id}`, app.server)));
  });

  it.each([
    [["message:appUser"]],
    [["message:appMaker"]],
    [["message:appUser", "message:appMaker"]],
    [["message"]],
    [["postback"]],
    [["conversation:read"]],
    [["message", "postback", "conversation:read"]],
  ])("keeps the triggers it was given: %j", async (triggers) => {
    expect((await created({ target: TARGET, triggers })).triggers).toEqual(triggers);
  });

  it("accepts the earlier revision's `events` as triggers, on create and update", async () => {
    const webhook = await created({ target: TARGET, events: ["message:appUser"] });
    expect(webhook.triggers).toEqual(["message:appUser"]);
    const updated = await call("PUT", `/v1/webhooks/${webhook._id}`, app.server, { body: { events: ["message:appMaker"] } });
    expect(updated.status, JSON.stringify(updated.json)).toBe(200);
    expect(updated.json.webhook.triggers).toEqual(["message:appMaker"]);
  });

  it("lists, gets, updates and deletes", async () => {
    const webhook = await created();

    const list = await call("GET", "/v1/webhooks", app.server);
    expect(list.status).toBe(200);
    expect(list.json.webhooks).toContainEqual(webhook);

    const one = await call("GET", `/v1/webhooks/${webhook._id}`, app.server);
    expect(one.status).toBe(200);
    expect(one.json).toEqual({ webhook });

    const updated = await call("PUT", `/v1/webhooks/${webhook._id}`, app.server, {
      body: { target: "https://other.example.com/hook", triggers: ["message:appUser"] },
    });
    expect(updated.status, JSON.stringify(updated.json)).toBe(200);
    const expected = { ...webhook, target: "https://other.example.com/hook", triggers: ["message:appUser"] };
    expect(updated.json).toEqual({ webhook: expected });
    expect((await call("GET", `/v1/webhooks/${webhook._id}`, app.server)).json).toEqual({ webhook: expected });

    // An update of one field leaves the other, and the secret, as they were.
    const targetOnly = await call("PUT", `/v1/webhooks/${webhook._id}`, app.server, { body: { target: TARGET } });
    expect(targetOnly.json.webhook).toEqual({ ...expected, target: TARGET });

    const deleted = await call("DELETE", `/v1/webhooks/${webhook._id}`, app.server);
    expect(deleted.status).toBe(200);
    expect(deleted.json).toEqual({});
    expectError(await call("GET", `/v1/webhooks/${webhook._id}`, app.server), 404);
    expect((await call("GET", "/v1/webhooks", app.server)).json.webhooks).not.toContainEqual(expect.objectContaining({ _id: webhook._id }));
  });

  it.each([
    ["GET", ""],
    ["PUT", ""],
    ["DELETE", ""],
    ["GET", "/deliveries"],
  ])("%s of an unknown webhook%s is 404", async (method, suffix) => {
    const body = method === "PUT" ? { target: TARGET } : undefined;
    expectError(await call(method, `/v1/webhooks/${hexId()}${suffix}`, app.server, { body }), 404);
  });

  it("is reachable by the account under /v1/apps/{appId}", async () => {
    const acct = await account();
    const response = await call("POST", `/v1/apps/${app.appId}/webhooks`, acct, { body: { target: TARGET } });
    expect(response.status, JSON.stringify(response.json)).toBe(201);
    const list = await call("GET", `/v1/apps/${app.appId}/webhooks`, acct);
    const { signingSecret: _, ...webhook } = response.json.webhook;
    expect(list.json.webhooks).toContainEqual(webhook);
  });
});

describe("validation", () => {
  const invalid: Array<[string, Record<string, unknown>, string]> = [
    ["no target", {}, "target"],
    ["a relative target", { target: "/callback" }, "target"],
    ["a target without a scheme", { target: "example.com/callback" }, "target"],
    ["an ftp target", { target: "ftp://example.com/callback" }, "target"],
    ["a javascript: target", { target: "javascript:alert(1)" }, "target"],
    ["a target that is not a string", { target: 42 }, "target"],
    ["an unknown trigger", { target: TARGET, triggers: ["conversation:start"] }, "triggers"],
    ["a trigger of the later v1 spelled in another case", { target: TARGET, triggers: ["Postback"] }, "triggers"],
    ["a trigger in the wrong case", { target: TARGET, triggers: ["Message"] }, "triggers"],
    ["a scoped trigger in the wrong case", { target: TARGET, triggers: ["message:appuser"] }, "triggers"],
    ["triggers that are not a list", { target: TARGET, triggers: "message" }, "triggers"],
    ["an unknown event (earlier alias)", { target: TARGET, events: ["MESSAGE"] }, "events"],
  ];

  it.each(invalid)("creating with %s is 400 naming the field", async (_, body, field) => {
    expectError(await create(body), 400, field);
  });

  it.each(invalid.filter(([, body]) => "target" in body && body.target !== TARGET || "triggers" in body || "events" in body))(
    "updating with %s is 400 naming the field",
    async (_, body, field) => {
      const webhook = await created();
      expectError(await call("PUT", `/v1/webhooks/${webhook._id}`, app.server, { body }), 400, field);
      expect((await call("GET", `/v1/webhooks/${webhook._id}`, app.server)).json.webhook).toEqual(webhook);
    },
  );

  it("malformed JSON is 400", async () => {
    expectError(
      await call("POST", "/v1/webhooks", app.server, { raw: "{target:", headers: { "content-type": "application/json" } }),
      400,
    );
  });

  // WEBHOOK_ALLOW_PRIVATE_TARGETS is "false" in wrangler.toml, which the tests run with.
  const privateTargets = [
    "http://127.0.0.1/hook",
    "http://127.1.2.3:8080/hook",
    "http://2130706433/hook", // 127.0.0.1 as one number
    "http://0x7f.0.0.1/hook",
    "http://localhost:3000/hook",
    "http://LOCALHOST/hook",
    "http://api.localhost/hook",
    "http://0.0.0.0/hook",
    "http://10.0.0.1/hook",
    "https://10.255.255.255/hook",
    "http://172.16.0.1/hook",
    "http://172.31.255.254/hook",
    "http://192.168.1.10/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]/hook",
    "http://[0:0:0:0:0:0:0:1]/hook",
    "http://[::]/hook",
    "http://[fc00::1]/hook",
    "http://[fd12:3456:789a::1]/hook",
    "http://[fe80::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:10.0.0.1]/hook",
    "http://[::ffff:192.168.0.1]/hook",
  ];

  it.each(privateTargets)("a private or loopback target is refused: %s", async (target) => {
    expectError(await create({ target }), 400, "target");
    const webhook = await created();
    expectError(await call("PUT", `/v1/webhooks/${webhook._id}`, app.server, { body: { target } }), 400, "target");
    await call("DELETE", `/v1/webhooks/${webhook._id}`, app.server);
  });

  it.each(["http://172.32.0.1/hook", "http://11.0.0.1/hook", "http://192.169.0.1/hook", "https://[2606:4700::1111]/hook", "http://[::ffff:8.8.8.8]/hook"])(
    "a public address next to a private range is accepted: %s",
    async (target) => {
      const webhook = await created({ target }, other);
      await call("DELETE", `/v1/webhooks/${webhook._id}`, other.server);
    },
  );

  it("an app has at most 10 webhooks", async () => {
    const limited = await createApp("ten webhooks");
    const webhooks = [];
    for (let i = 0; i < 10; i++) webhooks.push(await created({ target: `${TARGET}/${i}` }, limited));
    const eleventh = await create({ target: `${TARGET}/10` }, limited.server);
    expect([400, 409], JSON.stringify(eleventh.json)).toContain(eleventh.status);
    expectError(eleventh, eleventh.status);
    expect((await call("GET", "/v1/webhooks", limited.server)).json.webhooks).toHaveLength(10);

    await call("DELETE", `/v1/webhooks/${webhooks[0]._id}`, limited.server);
    await created({ target: `${TARGET}/10` }, limited);
  });
});

describe("credentials", () => {
  // Its own app, so that the webhook outlives the cleanup after each test.
  let guarded: TestApp;
  let webhookId: string;
  beforeAll(async () => {
    guarded = await createApp("guarded");
    webhookId = (await created(undefined, guarded))._id;
  });

  const endpoints = [
    ["POST /v1/webhooks", "POST", () => "/v1/webhooks", { target: TARGET }],
    ["GET /v1/webhooks", "GET", () => "/v1/webhooks", undefined],
    ["GET /v1/webhooks/{id}", "GET", () => `/v1/webhooks/${webhookId}`, undefined],
    ["PUT /v1/webhooks/{id}", "PUT", () => `/v1/webhooks/${webhookId}`, { target: TARGET }],
    ["DELETE /v1/webhooks/{id}", "DELETE", () => `/v1/webhooks/${webhookId}`, undefined],
    ["GET /v1/webhooks/{id}/deliveries", "GET", () => `/v1/webhooks/${webhookId}/deliveries`, undefined],
  ] as const;

  it.each(endpoints)("%s refuses every invalid credential with 401", async (_, method, path, body) => {
    for (const [name, auth] of await invalidCredentials(guarded)) {
      const response = await call(method, path(), auth, { body });
      expect(response.status, name).toBe(401);
      expectError(response, 401);
      expect(response.headers.get("www-authenticate"), name).toBeTruthy();
    }
  });

  it.each(endpoints)("%s refuses the app token, an appUser JWT and a bare account JWT with 403", async (_, method, path, body) => {
    const refused: Array<[string, Record<string, string>]> = [
      ["the app token", guarded.token],
      ["an appUser JWT", await guarded.user("someone")],
      ["an account JWT outside /v1/apps/{appId}", await account()],
    ];
    for (const [name, auth] of refused) {
      const response = await call(method, path(), auth, { body });
      expect(response.status, name).toBe(403);
      expectError(response, 403);
    }
  });

  it.each(endpoints.filter(([, , path]) => path() !== "/v1/webhooks"))(
    "%s with another app's JWT is 404",
    async (_, method, path, body) => {
      expectError(await call(method, path(), other.server, { body }), 404);
    },
  );

  it("another app's list does not show the webhook, and the webhook survives the other app's attempts", async () => {
    const list = await call("GET", "/v1/webhooks", other.server);
    expect(list.json.webhooks.map((w: { _id: string }) => w._id)).not.toContain(webhookId);
    const own = await call("GET", `/v1/webhooks/${webhookId}`, guarded.server);
    expect(own.status).toBe(200);
    expect(own.json.webhook.target).toBe(TARGET);
  });

  it("an account JWT under another app's path does not reach the webhook", async () => {
    expectError(await call("GET", `/v1/apps/${other.appId}/webhooks/${webhookId}`, await account()), 404);
  });
});

describe("GET /v1/webhooks/{id}/deliveries", () => {
  const job = (webhookId: string) => ({
    conversation: "one-conversation",
    deliveryId: hexId(),
    webhookId,
    messageId: hexId(),
    trigger: "message:appUser" as const,
    body: JSON.stringify({ trigger: "message:appUser", messages: [], appUser: {} }),
  });

  it("lists each delivery with its attempts, last status and outcome, newest first", async () => {
    const webhook = await created();
    const [delivered, failing] = [job(webhook._id), job(webhook._id)];
    interceptFetch(() => new Response("ok"));
    await runQueue("parley-webhooks", [{ body: delivered }]);
    vi.restoreAllMocks();
    interceptFetch(() => new Response("down", { status: 503 }));
    await runQueue("parley-webhooks", [{ body: failing, attempts: 3 }]);

    const response = await call("GET", `/v1/webhooks/${webhook._id}/deliveries`, app.server);
    expect(response.status).toBe(200);
    expect(response.json.deliveries).toHaveLength(2);
    expect(response.json.deliveries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ _id: delivered.deliveryId, messageId: delivered.messageId, trigger: "message:appUser", attempts: 1, lastStatus: 200, outcome: "delivered" }),
        expect.objectContaining({ _id: failing.deliveryId, messageId: failing.messageId, attempts: 3, lastStatus: 503, outcome: "retrying" }),
      ]),
    );
    const times = response.json.deliveries.map((d: { createdAt: string }) => Date.parse(d.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it("shows only that webhook's deliveries", async () => {
    const [mine, theirs] = [await created(), await created()];
    interceptFetch(() => new Response("ok"));
    await runQueue("parley-webhooks", [{ body: job(theirs._id) }]);
    expect((await call("GET", `/v1/webhooks/${mine._id}/deliveries`, app.server)).json.deliveries).toEqual([]);
  });

  it.each(["0", "101", "ten"])("refuses limit=%s with 400", async (limit) => {
    const webhook = await created();
    expectError(await call("GET", `/v1/webhooks/${webhook._id}/deliveries?limit=${limit}`, app.server), 400, "limit");
  });
});
