import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { endpointsOf, type Endpoint } from "../http/fuzz/endpoints";
import { BASE, call, createApp, freshUser, hexId, type TestApp } from "../support/helpers";

// Issue 11, item 7: an appUser JWT learns nothing about users other than its own.

const DOCUMENT = await (await exports.default.fetch(new Request(`${BASE}/v1/openapi.json`))).json();
const APP_USER_ROUTES = endpointsOf(DOCUMENT as Parameters<typeof endpointsOf>[0]).filter((e) =>
  e.template.includes("{appUserId}"),
);

let app: TestApp;
let other: { id: string; userId: string };
let caller: Record<string, string>;

beforeAll(async () => {
  app = await createApp("enumeration");
  other = await freshUser(app);
  caller = await app.user(`caller-${hexId()}@example.com`);
});

const send = (endpoint: Endpoint, appUserId: string) => {
  const path = endpoint.template.replace("{appUserId}", encodeURIComponent(appUserId)).replace(/\{\w+\}/g, "x");
  if (endpoint.multipart) {
    const form = new FormData();
    form.append("source", new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], "a.png"));
    return call(endpoint.method, path, caller, { raw: form });
  }
  return call(endpoint.method, path, caller, endpoint.body ? { body: endpoint.body({}, hexId()) } : {});
};

describe("another user's JWT asking for a user", () => {
  it("covers every appUser route of the document", () => {
    expect(APP_USER_ROUTES.length).toBeGreaterThan(10);
  });

  it.each(APP_USER_ROUTES.map((e) => [`${e.method} ${e.template}`, e] as const))(
    "%s: the same 403 whether the user exists (by _id or userId) or not",
    async (_, endpoint) => {
      const answers = await Promise.all(
        [other.id, other.userId, hexId(), `nobody-${hexId()}@example.com`].map((id) => send(endpoint, id)),
      );
      for (const answer of answers) {
        expect(answer.status, JSON.stringify(answer.json)).toBe(403);
        expect(answer.json).toEqual(answers[0].json);
      }
    },
  );
});
