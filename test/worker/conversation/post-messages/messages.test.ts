import { beforeAll, describe, expect, it } from "vitest";
import {
  account,
  call,
  conversationOf,
  createApp,
  expectError,
  invalidCredentials,
  textMessages,
  type TestApp,
} from "../../support/helpers";

const HEX24 = /^[0-9a-f]{24}$/;
// md5 of the trimmed, lowercased address, as gravatar defines it.
const GRAVATAR = {
  "bob@example.com": "4b9bb80620f03eb3719e0a061c14283d",
  "boss@example.com": "3fc36d0d69110a3b5105c276b998c152",
};
const gravatarOf = (email: keyof typeof GRAVATAR) => new RegExp(`^https://www\\.gravatar\\.com/avatar/${GRAVATAR[email]}\\b`);

// The 1.x clients post to /conversation/messages, the 2.x clients to /messages.
const POST_PATHS = [
  ["/conversation/messages", (id: string) => `/v1/appusers/${id}/conversation/messages`],
  ["/messages", (id: string) => `/v1/appusers/${id}/messages`],
] as const;
const messagesPath = POST_PATHS[0][1];

let app: TestApp;
let other: TestApp;
let serial = 0;

beforeAll(async () => {
  [app, other] = await Promise.all([createApp("messages"), createApp("another app")]);
});

/** Pre-creates an app user with a fresh userId; returns its _id and userId. */
async function newUser(profile: Record<string, unknown> = {}) {
  const userId = `user${++serial}@example.com`;
  const created = await call("POST", "/v1/appusers", app.server, { body: { userId, ...profile } });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  return { id: created.json.appUser._id as string, userId };
}

const post = (id: string, body: unknown, auth: Record<string, string> = app.token) =>
  call("POST", messagesPath(id), auth, { body });

const postOk = async (id: string, body: Record<string, unknown>, auth: Record<string, string> = app.token) => {
  const response = await post(id, body, auth);
  expect(response.status, JSON.stringify(response.json)).toBe(201);
  return response.json.message;
};

describe("POST message as the app user", () => {
  const credentials = [
    ["the app token", (_userId: string) => Promise.resolve(app.token)],
    ["the user's own JWT", (userId: string) => app.user(userId)],
  ] as const;
  const cases = POST_PATHS.flatMap(([pathName, path]) =>
    credentials.map(([credName, auth]) => [pathName, credName, path, auth] as const),
  );

  it.each(cases)("on %s with %s answers 201 with the message and its conversation", async (_p, _c, path, auth) => {
    const { id, userId } = await newUser();
    const before = await call("POST", path(id), await auth(userId), { body: { role: "appUser", text: "first" } });
    expect(before.status, JSON.stringify(before.json)).toBe(201);
    const response = await call("POST", path(id), await auth(userId), { body: { role: "appUser", text: "Just put some vinegar on it" } });
    expect(response.status, JSON.stringify(response.json)).toBe(201);

    const { message, conversation } = response.json;
    expect(message._id).toMatch(HEX24);
    expect(message).toMatchObject({ authorId: id, role: "appUser", text: "Just put some vinegar on it" });
    expect(typeof message.received).toBe("number");
    // Unix seconds (not ms) with millisecond precision.
    expect(Math.abs(message.received - Date.now() / 1000)).toBeLessThan(24 * 3600);
    expect(Math.round(message.received * 1000) / 1000).toBe(message.received);

    expect(conversation._id).toMatch(HEX24);
    expect(conversation.appMakers).toEqual([]);
    expect(conversation.appUsers).toEqual([id]);
    expect(conversation.messages.map((m: any) => m.text)).toEqual(["first", "Just put some vinegar on it"]);
    expect(conversation.messages[1]).toEqual(message);
    expect(before.json.conversation._id).toBe(conversation._id);
  });

  it("accepts the URL-encoded userId in place of the _id", async () => {
    const { id, userId } = await newUser();
    const message = await postOk(encodeURIComponent(userId), { role: "appUser", text: "by userId" });
    expect(message.authorId).toBe(id);
  });

  it("stores metadata and returns it with the message and the conversation", async () => {
    const { id } = await newUser();
    const metadata = { kind: "order", total: 12.5, paid: true };
    const message = await postOk(id, { role: "appUser", text: "order", metadata });
    expect(message.metadata).toEqual(metadata);
    const read = await call("GET", `/v1/appusers/${id}/conversation`, app.token);
    expect(read.json.conversation.messages[0].metadata).toEqual(metadata);
  });

  it("flips the user's conversationStarted to true with the first message", async () => {
    const { id } = await newUser();
    const readUser = () => call("GET", `/v1/appusers/${id}`, app.token);
    expect((await readUser()).json.appUser.conversationStarted).toBe(false);
    await postOk(id, { role: "appUser", text: "hello" });
    expect((await readUser()).json.appUser.conversationStarted).toBe(true);
    await postOk(id, { role: "appUser", text: "again" });
    expect((await readUser()).json.appUser.conversationStarted).toBe(true);
  });
});

describe("message name", () => {
  it.each([
    ["givenName and surname", { givenName: "Bob", surname: "Builder" }, {}, "Bob Builder"],
    ["givenName only", { givenName: "Bob" }, {}, "Bob"],
    ["surname only", { surname: "Builder" }, {}, "Builder"],
    ["an explicit name, which wins", { givenName: "Bob", surname: "Builder" }, { name: "Robert" }, "Robert"],
    ["no name at all", {}, {}, undefined],
  ])("of an appUser message, for a user with %s", async (_, profile, extra, expected) => {
    const { id } = await newUser(profile);
    const message = await postOk(id, { role: "appUser", text: "hi", ...extra });
    expect(message.name).toBe(expected);
  });

  it("of an appMaker message has no default", async () => {
    const { id } = await newUser({ givenName: "Bob", surname: "Builder" });
    const message = await postOk(id, { role: "appMaker", text: "hi" }, app.server);
    expect(message.name).toBeUndefined();
  });
});

describe("message avatarUrl", () => {
  const explicit = "https://cdn.example.com/me.png";
  it.each([
    ["the gravatar of the user's email", "appUser", {}, gravatarOf("bob@example.com")],
    ["the gravatar of the message email, over the user's", "appUser", { email: "boss@example.com" }, gravatarOf("boss@example.com")],
    ["the gravatar of the message email, trimmed and lowercased", "appUser", { email: " Boss@Example.COM " }, gravatarOf("boss@example.com")],
    ["an explicit avatarUrl, over any email", "appUser", { email: "boss@example.com", avatarUrl: explicit }, explicit],
    ["the gravatar of the app maker's email", "appMaker", { email: "boss@example.com" }, gravatarOf("boss@example.com")],
    ["an app maker's explicit avatarUrl", "appMaker", { avatarUrl: explicit }, explicit],
  ] as const)("is taken from %s", async (_, role, extra, expected) => {
    const { id } = await newUser({ email: "bob@example.com" });
    const auth = role === "appMaker" ? app.server : app.token;
    const message = await postOk(id, { role, text: "hi", ...extra }, auth);
    if (typeof expected === "string") expect(message.avatarUrl).toBe(expected);
    else expect(message.avatarUrl).toMatch(expected);
  });

  it("is not the user's gravatar on an app maker's message", async () => {
    const { id } = await newUser({ email: "bob@example.com" });
    const message = await postOk(id, { role: "appMaker", text: "hi" }, app.server);
    expect(message.avatarUrl ?? "").not.toMatch(gravatarOf("bob@example.com"));
  });

  it("is absent when neither the message nor the user has an email", async () => {
    const { id } = await newUser();
    const message = await postOk(id, { role: "appUser", text: "hi" });
    expect(message.avatarUrl).toBeUndefined();
  });
});

describe("message email", () => {
  it("is kept on a message posted with one, and returned wherever the message is", async () => {
    const { id } = await newUser({ email: "bob@example.com" });
    const message = await postOk(id, { role: "appMaker", text: "Steve here", name: "Steve", email: "boss@example.com" }, app.server);
    expect(message).toMatchObject({ name: "Steve", email: "boss@example.com", avatarUrl: expect.stringMatching(gravatarOf("boss@example.com")) });
    const { json } = await call("GET", `/v1/appusers/${id}/messages`, app.server);
    expect(json.messages.at(-1)).toEqual(message);
  });

  it("is absent from a message posted without one, even an app user's whose profile has one", async () => {
    const { id } = await newUser({ email: "bob@example.com" });
    expect(await postOk(id, { role: "appUser", text: "hi" })).not.toHaveProperty("email");
    expect(await postOk(id, { role: "appMaker", text: "hello" }, app.server)).not.toHaveProperty("email");
  });
});

describe("appMaker messages", () => {
  it("are accepted with an app-scope JWT", async () => {
    const { id } = await newUser();
    const message = await postOk(id, { role: "appMaker", text: "We can help" }, app.server);
    expect(message._id).toMatch(HEX24);
    expect(message).toMatchObject({ role: "appMaker", text: "We can help" });
    expect(message.authorId).toMatch(HEX24);
    expect(message.authorId).not.toBe(id);
  });

  it("are accepted with an account JWT under /v1/apps/{appId}", async () => {
    const { id } = await newUser();
    const response = await call("POST", `/v1/apps/${app.appId}/appusers/${id}/conversation/messages`, await account(), {
      body: { role: "appMaker", text: "From the account" },
    });
    expect(response.status, JSON.stringify(response.json)).toBe(201);
    expect(response.json.message.role).toBe("appMaker");
  });

  it.each([
    ["the app token", () => Promise.resolve(app.token)],
    ["the user's own JWT", (userId: string) => app.user(userId)],
  ])("are refused with 403 for %s", async (_, auth) => {
    const { id, userId } = await newUser();
    expectError(await post(id, { role: "appMaker", text: "impostor" }, await auth(userId)), 403);
    // Nothing was stored.
    expectError(await call("GET", `/v1/appusers/${id}/conversation`, app.token), 404);
  });
});

describe("media messages", () => {
  const media = { mediaUrl: "https://media.example.com/cat.jpg", mediaType: "image/jpeg" };

  it("need no text when mediaUrl and mediaType are both given; text is then the mediaUrl", async () => {
    const { id } = await newUser();
    const message = await postOk(id, { role: "appUser", ...media });
    expect(message).toMatchObject({ ...media, text: media.mediaUrl });
  });

  it("keep an explicit text beside the media", async () => {
    const { id } = await newUser();
    const message = await postOk(id, { role: "appUser", text: "look", ...media });
    expect(message).toMatchObject({ ...media, text: "look" });
  });
});

describe("POST message with a bad body", () => {
  it.each([
    ["role is missing", { text: "hi" }, "role"],
    ["role is unknown", { role: "bot", text: "hi" }, "role"],
    ["role is not a string", { role: 1, text: "hi" }, "role"],
    ["text is missing", { role: "appUser" }, "text"],
    ["text is empty", { role: "appUser", text: "" }, "text"],
    ["text is not a string", { role: "appUser", text: 42 }, "text"],
    ["mediaUrl comes without mediaType", { role: "appUser", mediaUrl: "https://media.example.com/a.jpg" }, "mediaType"],
    ["mediaType comes without mediaUrl or text", { role: "appUser", mediaType: "image/jpeg" }, "text"],
    ["mediaUrl is not a URL", { role: "appUser", mediaUrl: "cat.jpg", mediaType: "image/jpeg" }, "mediaUrl"],
    ["metadata is nested", { role: "appUser", text: "hi", metadata: { a: { b: 1 } } }, "metadata"],
    ["metadata is an array", { role: "appUser", text: "hi", metadata: ["a"] }, "metadata"],
    ["metadata is over 4 KB", { role: "appUser", text: "hi", metadata: { big: "x".repeat(5000) } }, "metadata"],
    ["avatarUrl is not a URL", { role: "appUser", text: "hi", avatarUrl: "me.png" }, "avatarUrl"],
    ["name is not a string", { role: "appUser", text: "hi", name: 7 }, "name"],
  ])("answers 400 naming the field when %s", async (_, body, field) => {
    const { id } = await newUser();
    expectError(await post(id, body), 400, field);
  });

  it("answers 400 on malformed JSON", async () => {
    const { id } = await newUser();
    const response = await call("POST", messagesPath(id), app.token, {
      raw: '{"role": "appUser", "text": ',
      headers: { "content-type": "application/json" },
    });
    expectError(response, 400);
  });
});

describe("GET conversation", () => {
  it("answers 404 before the first message, then the conversation", async () => {
    const { id } = await newUser();
    expectError(await call("GET", `/v1/appusers/${id}/conversation`, app.token), 404);
    const posted = await call("POST", messagesPath(id), app.token, { body: { role: "appUser", text: "hi" } });
    const response = await call("GET", `/v1/appusers/${id}/conversation`, app.token);
    expect(response.status).toBe(200);
    expect(response.json.conversation).toEqual(posted.json.conversation);
    expect(response.json.conversation).toMatchObject({ appMakers: [], appUsers: [id] });
  });

  it("returns the newest 100 messages, oldest first", async () => {
    const { id, userId } = await newUser();
    const stub = await conversationOf(id);
    await stub.append(textMessages(id, 130));
    const response = await call("GET", `/v1/appusers/${id}/conversation`, await app.user(userId));
    expect(response.status).toBe(200);
    const messages = response.json.conversation.messages;
    expect(messages.map((m: any) => m.text)).toEqual(Array.from({ length: 100 }, (_, i) => `m${i + 30}`));
  });
});

describe("unknown app user", () => {
  const missing = "0123456789abcdef01234567";
  it.each([
    ...POST_PATHS.map(([name, path]) => [`POST ${name}`, "POST", path(missing)] as const),
    ["GET /conversation", "GET", `/v1/appusers/${missing}/conversation`] as const,
    ["GET /messages", "GET", `/v1/appusers/${missing}/messages`] as const,
  ])("answers 404 on %s", async (_, method, path) => {
    const body = method === "POST" ? { role: "appUser", text: "hi" } : undefined;
    expectError(await call(method, path, app.token, { body }), 404);
  });
});

describe("refused credentials on the conversation endpoints", () => {
  const endpoints = [
    ...POST_PATHS.map(([name, path]) => [`POST ${name}`, "POST", path] as const),
    ["GET /conversation", "GET", (id: string) => `/v1/appusers/${id}/conversation`],
    ["GET /messages", "GET", (id: string) => `/v1/appusers/${id}/messages`],
  ] as const;

  it.each(endpoints)("%s refuses every invalid credential with 401", async (_, method, path) => {
    const { id, userId } = await newUser();
    const body = method === "POST" ? { role: "appUser", text: "hi" } : undefined;
    for (const [name, auth] of await invalidCredentials(app, { scope: "appUser", userId })) {
      const response = await call(method, path(id), auth, { body });
      expect(response.status, name).toBe(401);
      expect(response.headers.get("www-authenticate"), name).toBeTruthy();
    }
  });

  it.each(endpoints)("%s refuses another user's JWT (403) and another app's credentials (404)", async (_, method, path) => {
    const { id } = await newUser();
    const { userId: otherUserId } = await newUser();
    const body = method === "POST" ? { role: "appUser", text: "hi" } : undefined;
    expectError(await call(method, path(id), await app.user(otherUserId), { body }), 403);
    expectError(await call(method, path(id), other.token, { body }), 404);
    expectError(await call(method, path(id), other.server, { body }), 404);
  });

  it.each(endpoints)("%s refuses the app token for a credentialRequired user (401)", async (_, method, path) => {
    const { id, userId } = await newUser({ credentialRequired: true });
    const body = method === "POST" ? { role: "appUser", text: "hi" } : undefined;
    await postOk(id, { role: "appUser", text: "started with a JWT" }, await app.user(userId));
    expectError(await call(method, path(id), app.token, { body }), 401);
    const allowed = await call(method, path(id), await app.user(userId), { body });
    expect(allowed.status).toBe(method === "POST" ? 201 : 200);
  });
});
