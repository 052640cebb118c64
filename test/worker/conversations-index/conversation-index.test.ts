// The conversation index (issue 26): fed by the delivery pipeline's index channel, read by
// GET /v1/conversations and /v1/conversations/search, triaged with PUT .../conversation.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  account,
  call,
  conversationOf,
  createApp,
  device,
  expectError,
  freshUser,
  hexId,
  holdOutboxAlarms,
  interceptFetch,
  invalidCredentials,
  outboxJobs,
  type TestApp,
} from "../support/helpers";
import { listedEntry as entryOf, listPage as list, postMessage as post } from "../support/conversation-index";

let app: TestApp;
let other: TestApp;

beforeAll(async () => {
  app = await createApp("index");
  other = await createApp("index other");
  const auth = await account();
  for (const email of ["ana@example.com", "bo@example.com"]) {
    expect((await call("POST", `/v1/apps/${app.appId}/agents`, auth, { body: { email } })).status).toBe(201);
  }
});

afterEach(() => vi.restoreAllMocks());


const search = async (owner: TestApp, q: string, extra = "") => {
  const response = await call("GET", `/v1/conversations/search?q=${encodeURIComponent(q)}${extra}`, owner.server);
  expect(response.status, JSON.stringify(response.json)).toBe(200);
  return response.json as { results: any[]; hasMore: boolean };
};

/** Waits (at most the 2 s the index promises, with slack for the test runner) for a condition on the index. */
const indexed = <T>(read: () => Promise<T | undefined | false>) => vi.waitUntil(read, { timeout: 5_000, interval: 25 });


describe("the conversation list", () => {
  it("shows each conversation once, newest activity first, with its last message and unread count", async () => {
    const owner = await createApp("list order");
    const first = await freshUser(owner, { givenName: "Zoe", properties: { plan: "pro" } });
    const second = await freshUser(owner);
    await post(owner, first.id, "hello");
    await post(owner, first.id, "anyone?");
    await post(owner, second.id, "hi");
    const last = await post(owner, first.id, "we're here", "appMaker");
    const { conversations, hasMore } = await indexed(async () => {
      const page = await list(owner);
      return page.conversations.length === 2 && page.conversations[0].lastMessage?._id === last._id && page;
    });
    expect(hasMore).toBe(false);
    expect(conversations[0]).toEqual({
      appUser: { _id: first.id, userId: first.userId, givenName: "Zoe", properties: { plan: "pro" } },
      lastMessage: expect.objectContaining({ _id: last._id, text: "we're here", role: "appMaker" }),
      lastActivity: last.received,
      businessUnreadCount: 2,
      status: "open",
      assignee: null,
    });
    expect(conversations[1].appUser._id).toBe(second.id);
    expect(conversations[1].businessUnreadCount).toBe(1);
  });

  it("pages with limit and before, and says whether more follow", async () => {
    const owner = await createApp("list paging");
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const user = await freshUser(owner);
      await post(owner, user.id, `message ${i}`);
      ids.unshift(user.id);
    }
    await indexed(async () => (await list(owner)).conversations.length === 3);
    const first = await list(owner, "?limit=2");
    expect(first.conversations.map((entry) => entry.appUser._id)).toEqual(ids.slice(0, 2));
    expect(first.hasMore).toBe(true);
    const second = await list(owner, `?limit=2&before=${first.conversations[1].lastActivity}`);
    expect(second.conversations.map((entry) => entry.appUser._id)).toEqual(ids.slice(2));
    expect(second.hasMore).toBe(false);
  });

  it("filters by user: userId, names or email containing q, case ignored", async () => {
    const owner = await createApp("list users");
    const ann = await freshUser(owner, { givenName: "Annabelle", surname: "Okafor", email: "anna@shop.example" });
    const bob = await freshUser(owner, { givenName: "Bob" });
    await post(owner, ann.id, "one");
    await post(owner, bob.id, "two");
    await indexed(async () => (await list(owner)).conversations.length === 2);
    const ids = async (q: string) => (await list(owner, `?q=${encodeURIComponent(q)}`)).conversations.map((entry) => entry.appUser._id);
    expect(await ids("OKAF")).toEqual([ann.id]);
    expect(await ids("shop.ex")).toEqual([ann.id]);
    expect(await ids("bob")).toEqual([bob.id]);
    expect(await ids("%")).toEqual([]);
    // A profile change reaches the filter without a new message.
    expect((await call("PUT", `/v1/appusers/${bob.id}`, owner.server, { body: { surname: "Marley" } })).status).toBe(200);
    expect(await ids("marl")).toEqual([bob.id]);
  });

  it("counts unread appUser messages until the business reads the conversation", async () => {
    const user = await freshUser(app);
    await post(app, user.id, "one");
    await post(app, user.id, "two");
    await indexed(async () => (await entryOf(app, user.id))?.businessUnreadCount === 2);
    const read = await call("POST", `/v1/appusers/${user.id}/conversation/read`, app.server, { body: { role: "appMaker" } });
    expect(read.status, JSON.stringify(read.json)).toBe(200);
    await indexed(async () => (await entryOf(app, user.id))?.businessUnreadCount === 0);
    await post(app, user.id, "three");
    await indexed(async () => (await entryOf(app, user.id))?.businessUnreadCount === 1);
  });

  it("closes, reopens and assigns; a new appUser message reopens a closed conversation", async () => {
    const user = await freshUser(app);
    await post(app, user.id, "help");
    await indexed(() => entryOf(app, user.id));
    const closed = await call("PUT", `/v1/appusers/${user.id}/conversation`, app.server, { body: { status: "closed", assignee: "Ana@example.com" } });
    expect(closed.status, JSON.stringify(closed.json)).toBe(200);
    expect(closed.json.conversation).toMatchObject({ status: "closed", assignee: { email: "ana@example.com", name: "ana" } });
    const ids = async (query: string) => (await list(app, query)).conversations.map((entry) => entry.appUser._id);
    expect(await ids("")).not.toContain(user.id);
    expect(await ids("?status=closed")).toContain(user.id);
    expect(await ids("?status=all&assignee=ana@example.com")).toEqual([user.id]);
    expect(await ids("?status=all&assignee=none")).not.toContain(user.id);

    const unassigned = await call("PUT", `/v1/appusers/${user.id}/conversation`, app.server, { body: { assignee: null } });
    expect(unassigned.json.conversation).toMatchObject({ status: "closed", assignee: null });

    await post(app, user.id, "still there?");
    await indexed(async () => (await entryOf(app, user.id, ""))?.status === "open");
  });

  it("shows the user's avatar: the avatarUrl of their newest message", async () => {
    const owner = await createApp("list avatars");
    const user = await freshUser(owner, { email: "bob@example.com" });
    await post(owner, user.id, "hi");
    const gravatar = await indexed(async () => (await entryOf(owner, user.id))?.appUser.avatarUrl);
    expect(gravatar).toMatch(/^https:\/\/www\.gravatar\.com\/avatar\/4b9bb80620f03eb3719e0a061c14283d\b/);
    const explicit = "https://cdn.example.com/bob.png";
    expect((await call("POST", `/v1/appusers/${user.id}/messages`, owner.server, { body: { role: "appUser", text: "me", avatarUrl: explicit } })).status).toBe(201);
    await post(owner, user.id, "an answer", "appMaker");
    await indexed(async () => (await entryOf(owner, user.id))?.lastMessage.text === "an answer");
    expect((await entryOf(owner, user.id)).appUser.avatarUrl).toBe(explicit);
    expect((await search(owner, "me")).results[0].appUser.avatarUrl).toBe(explicit);
    const bare = await freshUser(owner);
    await post(owner, bare.id, "no avatar");
    expect(await indexed(() => entryOf(owner, bare.id))).not.toHaveProperty("appUser.avatarUrl");
  });

  it("refuses an assignee who is no agent of the app, and a body that changes nothing", async () => {
    const user = await freshUser(app);
    expectError(await call("PUT", `/v1/appusers/${user.id}/conversation`, app.server, { body: { assignee: "stranger@example.com" } }), 400, "assignee");
    expectError(await call("PUT", `/v1/appusers/${user.id}/conversation`, app.server, { body: { status: "gone" } }), 400, "status");
    expectError(await call("PUT", `/v1/appusers/${user.id}/conversation`, app.server, { body: {} }), 400, "body");
  });

  it("fires conversation:status and conversation:assignee to the webhooks listening", async () => {
    const target = `https://hooks.example/${hexId()}`;
    const sent = interceptFetch();
    const owner = await createApp("state hooks");
    expect((await call("POST", `/v1/apps/${owner.appId}/agents`, await account(), { body: { email: "cy@example.com", name: "Cy" } })).status).toBe(201);
    const hook = await call("POST", "/v1/webhooks", owner.server, { body: { target, triggers: ["conversation:status", "conversation:assignee"] } });
    expect(hook.status, JSON.stringify(hook.json)).toBe(201);
    const user = await freshUser(owner);
    await call("PUT", `/v1/appusers/${user.id}/conversation`, owner.server, { body: { status: "closed", assignee: "cy@example.com" } });
    const bodies = await vi.waitUntil(
      () => {
        const found = sent.sent.filter((request) => request.url === target).map((request) => JSON.parse(request.body));
        return found.length === 2 && found;
      },
      { timeout: 10_000, interval: 25 },
    );
    expect(bodies.map((body) => body.trigger).sort()).toEqual(["conversation:assignee", "conversation:status"]);
    expect(bodies.find((body) => body.trigger === "conversation:status")).toMatchObject({ status: "closed", previousStatus: "open", appUser: { _id: user.id } });
    expect(bodies.find((body) => body.trigger === "conversation:assignee")).toMatchObject({ assignee: { email: "cy@example.com", name: "Cy" } });
  });
});

describe("triage changes are stored with their deliveries", () => {
  it("has the webhooks in the conversation's outbox before it answers, sent once the outbox drains", async () => {
    const target = `https://hooks.example/${hexId()}`;
    const sent = interceptFetch();
    const owner = await createApp("state outbox");
    expect((await call("POST", `/v1/apps/${owner.appId}/agents`, await account(), { body: { email: "di@example.com" } })).status).toBe(201);
    expect((await call("POST", "/v1/webhooks", owner.server, { body: { target, triggers: ["conversation:status", "conversation:assignee"] } })).status).toBe(201);
    const user = await freshUser(owner);
    await post(owner, user.id, "hello");
    await indexed(() => entryOf(owner, user.id));
    const hold = holdOutboxAlarms();
    const changed = await call("PUT", `/v1/appusers/${user.id}/conversation`, owner.server, { body: { status: "closed", assignee: "di@example.com" } });
    expect(changed.status, JSON.stringify(changed.json)).toBe(200);
    // The answer keeps its shape, and the list shows the change at once.
    expect(changed.json.conversation).toMatchObject({ appUser: { _id: user.id }, status: "closed", assignee: { email: "di@example.com", name: "di" } });
    expect((await entryOf(owner, user.id, "?status=closed"))?.status).toBe("closed");
    // Nothing was sent (the state a crash right after the answer leaves), yet the deliveries are stored.
    const stub = await conversationOf(user.id);
    expect((await outboxJobs(stub)).map((job) => job.trigger).sort()).toEqual(["conversation:assignee", "conversation:status"]);
    expect(sent.sent.filter((request) => request.url === target)).toEqual([]);
    hold.mockRestore();
    await runDurableObjectAlarm(stub);
    const triggers = await vi.waitUntil(
      () => {
        const found = sent.sent.filter((request) => request.url === target).map((request) => JSON.parse(request.body).trigger);
        return found.length === 2 && found;
      },
      { timeout: 10_000, interval: 25 },
    );
    expect(triggers.sort()).toEqual(["conversation:assignee", "conversation:status"]);
  });

  it("a change its object recorded reaches the index by its job, should the answer's own write be lost", async () => {
    const owner = await createApp("state job");
    const user = await freshUser(owner);
    await post(owner, user.id, "hello");
    await indexed(() => entryOf(owner, user.id));
    const stub = await conversationOf(user.id);
    // The object records the change as the PUT has it do; the PUT's own index write never happens.
    const seed = { status: "open" as const, assignee: null, seq: 0 };
    await stub.triage({ status: "closed" }, seed, "unused", { index: { appId: owner.appId, appUserId: user.id } });
    await indexed(async () => (await entryOf(owner, user.id))?.status === "closed");
  });

  it("fires nothing, and numbers nothing, for a change that changes nothing", async () => {
    const owner = await createApp("state same");
    expect((await call("POST", "/v1/webhooks", owner.server, { body: { target: "https://hooks.example/same", triggers: ["conversation:status"] } })).status).toBe(201);
    const user = await freshUser(owner);
    await post(owner, user.id, "hello");
    const hold = holdOutboxAlarms();
    const same = await call("PUT", `/v1/appusers/${user.id}/conversation`, owner.server, { body: { status: "open" } });
    expect(same.json.conversation.status).toBe("open");
    const stub = await conversationOf(user.id);
    expect(await outboxJobs(stub)).toEqual([]);
    const triage = await runInDurableObject(stub, (_o, state) => state.storage.sql.exec("SELECT value FROM meta WHERE key = 'triage'").toArray());
    expect(triage).toEqual([]);
    hold.mockRestore();
  });

  it("a message's index job reaching the index after a later close does not reopen it", async () => {
    const owner = await createApp("state late job");
    const user = await freshUser(owner);
    await post(owner, user.id, "first");
    await indexed(() => entryOf(owner, user.id));
    const hold = holdOutboxAlarms();
    // Stored before the close; its index job stays in the outbox until after the close is shown.
    await post(owner, user.id, "second");
    const closed = await call("PUT", `/v1/appusers/${user.id}/conversation`, owner.server, { body: { status: "closed" } });
    expect(closed.json.conversation.status).toBe("closed");
    hold.mockRestore();
    await runDurableObjectAlarm(await conversationOf(user.id));
    const entry = await indexed(async () => {
      const found = await entryOf(owner, user.id);
      return found?.lastMessage.text === "second" && found;
    });
    expect(entry.status).toBe("closed");
    // A message stored after the close reopens it.
    await post(owner, user.id, "third");
    await indexed(async () => (await entryOf(owner, user.id))?.status === "open");
  });

  it("an older state reaching the index never undoes a newer one", async () => {
    const owner = await createApp("state seq");
    expect((await call("POST", `/v1/apps/${owner.appId}/agents`, await account(), { body: { email: "ed@example.com" } })).status).toBe(201);
    const user = await freshUser(owner);
    await post(owner, user.id, "hello");
    await call("PUT", `/v1/appusers/${user.id}/conversation`, owner.server, { body: { status: "closed" } });
    await call("PUT", `/v1/appusers/${user.id}/conversation`, owner.server, { body: { status: "open", assignee: "ed@example.com" } });
    // Both index jobs arrive after the answers' writes; the first is older than what the index shows.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const entry = await entryOf(owner, user.id);
    expect(entry).toMatchObject({ status: "open", assignee: { email: "ed@example.com" } });
    const row = await env.DB.prepare("SELECT state_seq FROM conversation_index WHERE app_user_id = ?").bind(user.id).first<{ state_seq: number }>();
    expect(row?.state_seq).toBe(2);
  });
});

describe("merged users", () => {
  it("fold into the survivor's entry and search results, leaving no row of the merged user", async () => {
    const owner = await createApp("index merge");
    const boot = async (deviceId: string, userId?: string) =>
      (await call("POST", "/v1/init", owner.token, { body: { device: device(deviceId), ...(userId && { userId }) } })).json.appUser;
    const sam = await boot(`sam-${hexId()}`, `sam-${hexId()}@example.com`);
    await post(owner, sam._id, "sam writes first");
    const tablet = `tablet-${hexId()}`;
    const anon = await boot(tablet);
    await post(owner, anon._id, "anonymous lemonade");
    await indexed(async () => (await list(owner)).conversations.length === 2);
    await indexed(async () => (await search(owner, "lemonade")).results.length === 1);

    const merged = await boot(tablet, sam.userId);
    expect(merged._id).toBe(sam._id);
    const { conversations } = await list(owner, "?status=all");
    expect(conversations.map((entry) => entry.appUser._id)).toEqual([sam._id]);
    expect(conversations[0]).toMatchObject({ lastMessage: { text: "anonymous lemonade", authorId: sam._id }, businessUnreadCount: 2 });
    const hits = (await search(owner, "lemonade")).results;
    expect(hits.map((hit) => hit.appUser._id)).toEqual([sam._id]);
    const stale = await env.DB.prepare("SELECT COUNT(*) AS n FROM conversation_index WHERE app_user_id = ?").bind(anon._id).first<{ n: number }>();
    expect(stale?.n).toBe(0);

    // A message posted to the merged user's old id lands in the survivor's entry.
    await post(owner, anon._id, "late to the old id");
    await indexed(async () => (await entryOf(owner, sam._id))?.lastMessage.text === "late to the old id");
    expect((await list(owner, "?status=all")).conversations).toHaveLength(1);
  });

  it("an index job written before the merge indexes into the survivor", async () => {
    const owner = await createApp("index merge late");
    const boot = async (deviceId: string, userId?: string) =>
      (await call("POST", "/v1/init", owner.token, { body: { device: device(deviceId), ...(userId && { userId }) } })).json.appUser;
    const tablet = `tablet-${hexId()}`;
    const anon = await boot(tablet);
    const hold = holdOutboxAlarms();
    await post(owner, anon._id, "queued before the merge");
    const anonStub = await conversationOf(anon._id);
    const sam = await boot(tablet, `sam-${hexId()}@example.com`);
    hold.mockRestore();
    await runDurableObjectAlarm(anonStub);
    const entry = await indexed(() => entryOf(owner, sam._id));
    expect(entry.lastMessage).toMatchObject({ text: "queued before the merge", authorId: sam._id });
    await indexed(async () => (await search(owner, "queued")).results[0]?.appUser._id === sam._id);
    const stale = await env.DB.prepare("SELECT COUNT(*) AS n FROM conversation_index WHERE app_user_id = ?").bind(anon._id).first<{ n: number }>();
    expect(stale?.n).toBe(0);
  });
});

describe("message search", () => {
  it("finds the app's messages holding every word, the last as a prefix, case ignored, newest first", async () => {
    const owner = await createApp("search");
    const user = await freshUser(owner);
    const older = await post(owner, user.id, "My Parcel never arrived");
    await post(owner, user.id, "the parcel is lost");
    const newer = await post(owner, user.id, "parcel still not ARRIVED today");
    const foreign = await freshUser(other);
    await post(other, foreign.id, "parcel arrived elsewhere");
    const { results, hasMore } = await indexed(async () => {
      const found = await search(owner, "parcel arr");
      return found.results.length === 2 && found;
    });
    expect(results.map((hit) => hit.message._id)).toEqual([newer._id, older._id]);
    expect(results[0].appUser).toEqual({ _id: user.id, userId: user.userId, properties: {} });
    expect(hasMore).toBe(false);
    const firstPage = await search(owner, "parcel", "&limit=2");
    expect(firstPage.hasMore).toBe(true);
    const rest = await search(owner, "parcel", `&limit=2&before=${firstPage.results[1].message.received}`);
    expect(rest.results.map((hit) => hit.message._id)).toEqual([older._id]);
    // FTS5's own syntax is taken as words.
    expect((await search(owner, 'parcel" OR "x')).results).toEqual([]);
    expect((await search(owner, "NEAR(parcel")).results).toEqual([]);
  });

  it("refuses an empty or overlong q", async () => {
    expectError(await call("GET", "/v1/conversations/search", app.server), 400, "q");
    expectError(await call("GET", "/v1/conversations/search?q=%20", app.server), 400, "q");
    expectError(await call("GET", `/v1/conversations/search?q=${"a".repeat(201)}`, app.server), 400, "q");
  });
});

describe("erasure", () => {
  it("a deleted message leaves search and the list", async () => {
    const owner = await createApp("erase message");
    const user = await freshUser(owner);
    const kept = await post(owner, user.id, "kept words");
    const erased = await post(owner, user.id, "secret words");
    await indexed(async () => (await search(owner, "words")).results.length === 2);
    expect((await call("DELETE", `/v1/appusers/${user.id}/messages/${erased._id}`, owner.server)).status).toBe(200);
    expect((await search(owner, "secret")).results).toEqual([]);
    const entry = await entryOf(owner, user.id);
    expect(entry.lastMessage._id).toBe(kept._id);
    expect(entry.lastActivity).toBe(kept.received);
    expect(JSON.stringify(await env.DB.prepare("SELECT * FROM conversation_messages WHERE app_id = ?").bind(owner.appId).all())).not.toContain("secret");
  });

  it("a conversation emptied of messages leaves the list", async () => {
    const owner = await createApp("erase all");
    const user = await freshUser(owner);
    await post(owner, user.id, "gone soon");
    await indexed(() => entryOf(owner, user.id));
    expect((await call("DELETE", `/v1/appusers/${user.id}/messages`, owner.server)).status).toBe(200);
    expect(await entryOf(owner, user.id)).toBeUndefined();
    expect((await search(owner, "gone")).results).toEqual([]);
  });

  it("a deleted user leaves the list and search", async () => {
    const owner = await createApp("erase user");
    const user = await freshUser(owner, { givenName: "Forgotten" });
    await post(owner, user.id, "remember me");
    await indexed(() => entryOf(owner, user.id));
    expect((await call("DELETE", `/v1/appusers/${user.id}`, owner.server)).status).toBe(200);
    expect(await entryOf(owner, user.id)).toBeUndefined();
    expect((await search(owner, "remember")).results).toEqual([]);
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM conversation_messages WHERE app_user_id = ?").bind(user.id).first<{ n: number }>();
    expect(rows?.n).toBe(0);
  });

  it("an erased profile leaves no name, email or avatar in the index", async () => {
    const owner = await createApp("erase profile");
    const user = await freshUser(owner, { givenName: "Ada", email: "ada@example.com" });
    await call("POST", `/v1/appusers/${user.id}/messages`, owner.server, { body: { role: "appUser", text: "signed words", email: "ada@example.com" } });
    await indexed(async () => (await search(owner, "signed")).results.length === 1);
    expect((await call("DELETE", `/v1/appusers/${user.id}/profile`, owner.server)).status).toBe(200);
    const [hit] = (await search(owner, "signed")).results;
    expect(hit.message).not.toHaveProperty("name");
    expect(hit.message).not.toHaveProperty("email");
    expect(hit.message).not.toHaveProperty("avatarUrl");
    expect(hit.appUser).toEqual({ _id: user.id, userId: user.userId, properties: {} });
  });

  it("a job arriving after its message was erased indexes nothing", async () => {
    const owner = await createApp("erase race");
    const user = await freshUser(owner);
    const message = await post(owner, user.id, "raced away");
    expect((await call("DELETE", `/v1/appusers/${user.id}/messages/${message._id}`, owner.server)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await search(owner, "raced")).results).toEqual([]);
  });
});

describe("who may read and triage", () => {
  it("the account reaches it under /v1/apps/{appId}", async () => {
    const auth = await account();
    expect((await call("GET", `/v1/apps/${app.appId}/conversations`, auth)).status).toBe(200);
    expect((await call("GET", `/v1/apps/${app.appId}/conversations/search?q=x`, auth)).status).toBe(200);
    const user = await freshUser(app);
    expect((await call("PUT", `/v1/apps/${app.appId}/appusers/${user.id}/conversation`, auth, { body: { status: "closed" } })).status).toBe(200);
  });

  it("app tokens and appUser JWTs get 403, invalid credentials 401, another app's JWT 404", async () => {
    const user = await freshUser(app);
    const requests: Array<[string, string, unknown?]> = [
      ["GET", "/v1/conversations"],
      ["GET", "/v1/conversations/search?q=x"],
      ["PUT", `/v1/appusers/${user.id}/conversation`, { status: "closed" }],
    ];
    for (const [method, path, body] of requests) {
      expectError(await call(method, path, app.token, { body }), 403);
      expectError(await call(method, path, await app.user(user.userId), { body }), 403);
      for (const [name, auth] of await invalidCredentials(app)) expect((await call(method, path, auth, { body })).status, name).toBe(401);
    }
    expectError(await call("PUT", `/v1/appusers/${user.id}/conversation`, other.server, { body: { status: "closed" } }), 404);
  });

  it("bad list parameters get a 400 naming the field", async () => {
    for (const [query, field] of [
      ["limit=0", "limit"],
      ["limit=101", "limit"],
      ["limit=x", "limit"],
      ["before=-1", "before"],
      ["status=pending", "status"],
      ["assignee=someone", "assignee"],
      [`q=${"a".repeat(201)}`, "q"],
    ]) {
      expectError(await call("GET", `/v1/conversations?${query}`, app.server), 400, field);
    }
  });
});
