import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { Conversation } from "../../../../src/conversation/object/conversation";
import { BASE, account, call, createApp, expectError, invalidCredentials, type TestApp } from "../../support/helpers";

// The 1.x clients upload to /conversation/images, the 2.x clients to /images.
const PATHS = [
  ["/conversation/images", (id: string) => `/v1/appusers/${id}/conversation/images`],
  ["/images", (id: string) => `/v1/appusers/${id}/images`],
] as const;
const imagesPath = PATHS[0][1];

const bytes = (...parts: Array<string | number[]>) =>
  new Uint8Array(parts.flatMap((part) => (typeof part === "string" ? Array.from(part, (ch) => ch.charCodeAt(0)) : part)));

// Smallest byte strings that carry each format's signature, each declared as another type and
// named with another extension, so that only sniffing can tell what they are.
const IMAGES = [
  { kind: "PNG", mediaType: "image/png", data: bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], [0, 0, 0, 13], "IHDR", [0, 0, 0, 1]), declared: "image/jpeg", filename: "photo.jpg" },
  { kind: "JPEG", mediaType: "image/jpeg", data: bytes([0xff, 0xd8, 0xff, 0xe0, 0, 16], "JFIF", [0, 1, 1, 0, 0, 1]), declared: "image/png", filename: "photo.png" },
  { kind: "GIF", mediaType: "image/gif", data: bytes("GIF89a", [1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x3b]), declared: "application/octet-stream", filename: "anim" },
  { kind: "WebP", mediaType: "image/webp", data: bytes("RIFF", [26, 0, 0, 0], "WEBPVP8L", [13, 0, 0, 0, 0x2f, 0, 0, 0, 0x10]), declared: "image/gif", filename: "pic.gif" },
] as const;
const PNG = IMAGES[0].data;

// Files that claim to be images by name and declared type but are not.
const NOT_IMAGES = [
  ["a text file renamed .png", bytes("just some text, honestly\n")],
  ["an SVG (scriptable, so never served as an image)", bytes('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')],
  ["an HTML page", bytes("<!doctype html><html><script>alert(1)</script></html>")],
  ["a PDF", bytes("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")],
  ["a truncated PNG signature", bytes([0x89, 0x50, 0x4e, 0x47])],
  ["a RIFF file that is not WebP (WAV)", bytes("RIFF", [36, 0, 0, 0], "WAVEfmt ")],
] as const;

const MAX_BYTES = Number(env.MEDIA_MAX_BYTES);

let app: TestApp;
let other: TestApp;
let serial = 0;

beforeAll(async () => {
  [app, other] = await Promise.all([createApp("images"), createApp("another app")]);
});

afterEach(() => {
  vi.restoreAllMocks();
});

async function newUser(profile: Record<string, unknown> = {}) {
  const userId = `uploader${++serial}@example.com`;
  const created = await call("POST", "/v1/appusers", app.server, { body: { userId, ...profile } });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  return { id: created.json.appUser._id as string, userId };
}

type Fields = Record<string, string>;

function form(source: Uint8Array | string | null, fields: Fields = { role: "appUser" }, type = "image/png", filename = "image.png") {
  const data = new FormData();
  if (typeof source === "string") data.append("source", source);
  else if (source) data.append("source", new File([source], filename, { type }));
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  return data;
}

const upload = (path: string, data: FormData, auth: Record<string, string> = app.token) =>
  call("POST", path, auth, { raw: data });

const storedKeys = async () => {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.MEDIA.list({ cursor });
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys.sort();
};

/** Runs a request that must be refused and checks that the bucket is exactly as it was. */
async function expectRefusedWithoutStoring(
  request: () => Promise<{ status: number; json: any }>,
  status: number | number[],
  field?: string,
) {
  const before = await storedKeys();
  const response = await request();
  const statuses = Array.isArray(status) ? status : [status];
  expect(statuses, JSON.stringify(response.json)).toContain(response.status);
  expectError(response, response.status, field);
  expect(await storedKeys()).toEqual(before);
  return response;
}

const keyOf = (mediaUrl: string) => mediaUrl.slice(`${BASE}/v1/media/`.length);

describe("uploading an image", () => {
  const cases = PATHS.flatMap(([pathName, path]) => IMAGES.map((image) => [pathName, image.kind, path, image] as const));

  it.each(cases)("on %s stores a %s and posts it with its sniffed mediaType", async (_p, _k, path, image) => {
    const { id } = await newUser();
    const response = await upload(path(id), form(image.data, { role: "appUser", name: "Steve" }, image.declared, image.filename));
    expect(response.status, JSON.stringify(response.json)).toBe(201);

    const { message, conversation } = response.json;
    expect(message).toMatchObject({ authorId: id, role: "appUser", name: "Steve", mediaType: image.mediaType });
    // The URL points at this worker (PUBLIC_URL is empty in the tests), under an unguessable key.
    expect(message.mediaUrl).toMatch(new RegExp(`^${BASE.replace(/\./g, "\\.")}/v1/media/[^/]+$`));
    expect(keyOf(message.mediaUrl)).toMatch(/[0-9a-f]{32,}/);
    expect(message.text).toBe(message.mediaUrl);
    expect(conversation.messages.at(-1)).toEqual(message);

    const stored = await env.MEDIA.get(keyOf(message.mediaUrl));
    expect(stored).not.toBeNull();
    expect(new Uint8Array(await stored!.arrayBuffer())).toEqual(image.data);
    expect(stored!.httpMetadata?.contentType).toBe(image.mediaType);
  });

  it("gives every upload its own key, even for identical bytes", async () => {
    const { id } = await newUser();
    const urls = new Set<string>();
    for (let i = 0; i < 3; i++) urls.add((await upload(imagesPath(id), form(PNG))).json.message.mediaUrl);
    expect(urls.size).toBe(3);
  });

  it("takes the message fields from the form, metadata as JSON text", async () => {
    const { id } = await newUser();
    const fields = {
      role: "appUser",
      name: "Steve",
      avatarUrl: "https://example.com/steve.png",
      metadata: JSON.stringify({ lang: "en", size: 3, retina: true }),
    };
    const response = await upload(imagesPath(id), form(PNG, fields));
    expect(response.status, JSON.stringify(response.json)).toBe(201);
    expect(response.json.message).toMatchObject({
      name: "Steve",
      avatarUrl: "https://example.com/steve.png",
      metadata: { lang: "en", size: 3, retina: true },
    });
  });

  it("defaults the author's name and gravatar from the app user, as messages do", async () => {
    const { id } = await newUser({ givenName: "Bob", surname: "Smith", email: "bob@example.com" });
    const response = await upload(imagesPath(id), form(PNG));
    expect(response.status, JSON.stringify(response.json)).toBe(201);
    expect(response.json.message.name).toBe("Bob Smith");
    // md5("bob@example.com")
    expect(response.json.message.avatarUrl).toMatch(/^https:\/\/www\.gravatar\.com\/avatar\/4b9bb80620f03eb3719e0a061c14283d\b/);
  });

  it("builds the mediaUrl from the request's origin when PUBLIC_URL is empty", async () => {
    const { id } = await newUser();
    const response = await exports.default.fetch(
      new Request(`https://chat.example.org${imagesPath(id)}`, { method: "POST", headers: app.token, body: form(PNG) }),
    );
    expect(response.status).toBe(201);
    const { message } = (await response.json()) as { message: { mediaUrl: string } };
    expect(message.mediaUrl).toMatch(/^https:\/\/chat\.example\.org\/v1\/media\//);
  });

  it("accepts a file of exactly the size limit", async () => {
    const { id } = await newUser();
    const data = new Uint8Array(MAX_BYTES);
    data.set(PNG);
    const response = await upload(imagesPath(id), form(data));
    expect(response.status, JSON.stringify(response.json)).toBe(201);
    expect((await env.MEDIA.head(keyOf(response.json.message.mediaUrl)))?.size).toBe(MAX_BYTES);
  });

  it("posts as the app maker with an app-scope JWT, authored by the app", async () => {
    const { id } = await newUser();
    const response = await upload(imagesPath(id), form(PNG, { role: "appMaker", name: "Support" }), app.server);
    expect(response.status, JSON.stringify(response.json)).toBe(201);
    expect(response.json.message).toMatchObject({ role: "appMaker", authorId: app.appId, name: "Support", mediaType: "image/png" });
  });

  it("is reachable by the account under /v1/apps/{appId}", async () => {
    const { id } = await newUser();
    const response = await upload(`/v1/apps/${app.appId}/appusers/${id}/images`, form(PNG, { role: "appMaker" }), await account());
    expect(response.status, JSON.stringify(response.json)).toBe(201);
  });
});

describe("refused uploads store nothing", () => {
  it.each(PATHS)("on %s, a file that is not a JPEG, PNG, GIF or WebP is refused naming source", async (_p, path) => {
    const { id } = await newUser();
    for (const [what, data] of NOT_IMAGES) {
      const response = await expectRefusedWithoutStoring(() => upload(path(id), form(data, undefined, "image/png", "image.png")), [400, 415], "source");
      expect(response.json.error.description, what).toMatch(/JPEG|PNG|GIF|WebP/);
    }
  });

  it.each([
    ["an empty file", () => form(new Uint8Array(0))],
    ["no source", () => form(null)],
    ["source as a text field instead of a file", () => form("iVBORw0KGgo=")],
  ])("%s is 400 naming source", async (_, data) => {
    const { id } = await newUser();
    await expectRefusedWithoutStoring(() => upload(imagesPath(id), data()), 400, "source");
  });

  it.each([
    ["one byte over the limit", MAX_BYTES + 1],
    ["11 MB", 11 * 1024 * 1024],
  ])("a file %s is 413", async (_, size) => {
    const { id } = await newUser();
    const data = new Uint8Array(size);
    data.set(PNG);
    await expectRefusedWithoutStoring(() => upload(imagesPath(id), form(data)), 413);
  });

  it("an oversize file streamed without Content-Length is 413", async () => {
    const { id } = await newUser();
    const data = new Uint8Array(11 * 1024 * 1024);
    data.set(PNG);
    const encoded = new Response(form(data));
    const multipart = new Uint8Array(await encoded.arrayBuffer());
    const headers = { ...app.token, "content-type": encoded.headers.get("content-type")! };
    const chunk = 256 * 1024;
    await expectRefusedWithoutStoring(async () => {
      let offset = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (offset >= multipart.length) return controller.close();
          controller.enqueue(multipart.slice(offset, (offset += chunk)));
        },
      });
      const request = new Request(`${BASE}${imagesPath(id)}`, { method: "POST", headers, body: stream });
      expect(request.headers.has("content-length")).toBe(false);
      const response = await exports.default.fetch(request);
      return { status: response.status, json: await response.json() };
    }, 413);
  });

  it.each([
    ["metadata that is not JSON", { role: "appUser", metadata: "{not json" }, "metadata"],
    ["metadata with a nested object", { role: "appUser", metadata: JSON.stringify({ n: { x: 1 } }) }, "metadata"],
    ["metadata that is an array", { role: "appUser", metadata: "[1,2]" }, "metadata"],
    ["metadata over 4 KB", { role: "appUser", metadata: JSON.stringify({ a: "x".repeat(5000) }) }, "metadata"],
    ["no role", {}, "role"],
    ["an unknown role", { role: "admin" }, "role"],
    ["an avatarUrl that is not http(s)", { role: "appUser", avatarUrl: "javascript:alert(1)" }, "avatarUrl"],
  ])("%s is 400 naming the field", async (_, fields, field) => {
    const { id } = await newUser();
    await expectRefusedWithoutStoring(() => upload(imagesPath(id), form(PNG, fields as Fields)), 400, field);
  });

  it("a JSON body instead of multipart/form-data is 400", async () => {
    const { id } = await newUser();
    await expectRefusedWithoutStoring(
      () => call("POST", imagesPath(id), app.token, { body: { role: "appUser", source: "iVBORw0KGgo=" } }),
      400,
      "body",
    );
  });

  it("an unknown app user is 404", async () => {
    await expectRefusedWithoutStoring(() => upload(imagesPath("000000000000000000000000"), form(PNG)), 404);
  });

  it("a post that fails after the store deletes the stored image", async () => {
    const { id } = await newUser();
    // The worker shares this isolate, so the Conversation's append can be made to fail for one call.
    vi.spyOn(Conversation.prototype, "append").mockImplementationOnce(async () => {
      throw new Error("conversation unavailable");
    });
    const before = await storedKeys();
    const response = await upload(imagesPath(id), form(PNG));
    expect(response.status).toBeGreaterThanOrEqual(500);
    expect(await storedKeys()).toEqual(before);
    // And no message points at a missing object.
    const conversation = await call("GET", `/v1/appusers/${id}/messages`, app.token);
    expect(conversation.json.messages).toEqual([]);
  });
});

describe("credentials are refused as for messages, and nothing is stored", () => {
  it.each(PATHS)("on %s, every invalid credential is 401", async (_p, path) => {
    const { id, userId } = await newUser();
    for (const [name, auth] of await invalidCredentials(app, { scope: "appUser", userId })) {
      const response = await expectRefusedWithoutStoring(() => upload(path(id), form(PNG), auth), 401);
      expect(response.status, name).toBe(401);
    }
  });

  it.each(PATHS)("on %s, refused credentials and roles get their status", async (_p, path) => {
    const { id, userId } = await newUser();
    const locked = await newUser({ credentialRequired: true });
    const cases: Array<[string, () => Promise<{ status: number; json: any }>, number]> = [
      ["another user's JWT", async () => upload(path(id), form(PNG), await app.user(`not-${userId}`)), 403],
      ["an appMaker post with the app token", async () => upload(path(id), form(PNG, { role: "appMaker" }), app.token), 403],
      ["an appMaker post with the user's JWT", async () => upload(path(id), form(PNG, { role: "appMaker" }), await app.user(userId)), 403],
      ["another app's token", async () => upload(path(id), form(PNG), other.token), 404],
      ["another app's JWT", async () => upload(path(id), form(PNG), other.server), 404],
      ["the account without /v1/apps/{appId}", async () => upload(path(id), form(PNG), await account()), 403],
      ["the app token for a credentialRequired user", async () => upload(path(locked.id), form(PNG), app.token), 401],
    ];
    for (const [name, request, status] of cases) {
      const response = await expectRefusedWithoutStoring(request, status);
      expect(response.status, name).toBe(status);
    }
  });

  it("the user's own JWT may upload", async () => {
    const { id, userId } = await newUser();
    const response = await upload(imagesPath(id), form(PNG), await app.user(userId));
    expect(response.status, JSON.stringify(response.json)).toBe(201);
  });
});
