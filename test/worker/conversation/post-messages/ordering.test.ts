import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { Conversation } from "../../../../src/conversation/object/conversation";
import { call, conversationOf, createApp, expectError, storedMessages, textMessages, type TestApp } from "../../support/helpers";

const PAGE = 100;

let app: TestApp;
let serial = 0;

beforeAll(async () => {
  app = await createApp("ordering");
});

async function newUser() {
  const created = await call("POST", "/v1/appusers", app.server, { body: { userId: `orderly${++serial}` } });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  return created.json.appUser._id as string;
}

/** Path and query of a `previous`/`next` link, so the test follows exactly what the API hands out. */
const follow = (link: string) => {
  const url = new URL(link);
  return `${url.pathname}${url.search}`;
};

async function getPage(path: string) {
  const response = await call("GET", path, app.token);
  expect(response.status, JSON.stringify(response.json)).toBe(200);
  return response.json as { messages: any[]; previous?: string; next?: string };
}

/** Every stored message, oldest first, by walking `previous` links back from the newest page. */
async function walkBack(id: string) {
  const pages: any[][] = [];
  let page = await getPage(`/v1/appusers/${id}/messages`);
  pages.unshift(page.messages);
  while (page.previous) {
    page = await getPage(follow(page.previous));
    pages.unshift(page.messages);
  }
  return { messages: pages.flat(), pageSizes: pages.map((p) => p.length) };
}

function expectStrictlyIncreasing(received: number[]) {
  for (let i = 1; i < received.length; i++) {
    expect(received[i], `received[${i}]`).toBeGreaterThan(received[i - 1]);
  }
}

const ids = (messages: { _id: string }[]) => messages.map((m) => m._id);

describe("concurrent posts to one conversation", () => {
  it("stores all 200, each once, in strictly increasing received order", async () => {
    const id = await newUser();
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        call("POST", `/v1/appusers/${id}/messages`, app.token, { body: { role: "appUser", text: `c${i}` } }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(200).fill(201));
    const posted = responses.map((r) => r.json.message);
    expect(new Set(ids(posted)).size).toBe(200);
    expect(new Set(posted.map((m) => m.received)).size).toBe(200);

    const { messages: stored } = await walkBack(id);
    expect(stored).toHaveLength(200);
    expect(new Set(ids(stored)).size).toBe(200);
    expect([...ids(stored)].sort()).toEqual([...ids(posted)].sort());
    expectStrictlyIncreasing(stored.map((m) => m.received));
    // Each message is stored exactly as its poster was told.
    const byId = new Map(posted.map((m) => [m._id, m]));
    for (const message of stored) expect(message).toEqual(byId.get(message._id));

    const user = await call("GET", `/v1/appusers/${id}`, app.token);
    expect(user.json.appUser.conversationStarted).toBe(true);
  });
});

describe("paging through a long conversation", () => {
  const TOTAL = 350;
  let id: string;
  let all: { _id: string; text: string; received: number }[];
  const messagesPath = (query = "") => `/v1/appusers/${id}/messages${query}`;
  const texts = (from: number, to: number) => all.slice(from, to).map((m) => m.text);

  beforeAll(async () => {
    id = await newUser();
    const stub = await conversationOf(id);
    all = [];
    // Several appends, so that the conversation spans more than one call as it would in use.
    for (let i = 0; i < TOTAL; i += 50) {
      const { appended } = await stub.append(textMessages(id, 50, `p${i / 50}.`));
      all.push(...appended);
    }
    expect(all).toHaveLength(TOTAL);
  });

  it("GET messages returns the newest 100, oldest first, with previous and no next", async () => {
    const page = await getPage(messagesPath());
    expect(page.messages.map((m) => m.text)).toEqual(texts(TOTAL - PAGE, TOTAL));
    expect(page.previous).toBeDefined();
    expect(page.next).toBeUndefined();
  });

  it("GET conversation returns the same newest 100", async () => {
    const response = await call("GET", `/v1/appusers/${id}/conversation`, app.token);
    expect(response.json.conversation.messages.map((m: any) => m.text)).toEqual(texts(TOTAL - PAGE, TOTAL));
  });

  it.each([
    ["in the middle", 200, 100, 200, true, true],
    ["near the start", 50, 0, 50, false, true],
    ["past the newest", TOTAL, TOTAL - PAGE, TOTAL, true, false],
  ])("?before=T %s returns the 100 before T, bound excluded", async (_, bound, from, to, hasPrevious, hasNext) => {
    const T = bound < TOTAL ? all[bound].received : all[TOTAL - 1].received + 1;
    const page = await getPage(messagesPath(`?before=${T}`));
    expect(page.messages.map((m) => m.text)).toEqual(texts(from, to));
    expect(Boolean(page.previous)).toBe(hasPrevious);
    expect(Boolean(page.next)).toBe(hasNext);
  });

  it.each([
    ["in the middle", 100, 101, 201, true, true],
    ["near the end", 300, 301, TOTAL, true, false],
    ["before the oldest", -1, 0, 100, false, true],
  ])("?after=T %s returns the 100 after T, bound excluded", async (_, bound, from, to, hasPrevious, hasNext) => {
    const T = bound >= 0 ? all[bound].received : 0;
    const page = await getPage(messagesPath(`?after=${T}`));
    expect(page.messages.map((m) => m.text)).toEqual(texts(from, to));
    expect(Boolean(page.previous)).toBe(hasPrevious);
    expect(Boolean(page.next)).toBe(hasNext);
  });

  it("walking back through previous links and forward through next links visits every message exactly once", async () => {
    const back = await walkBack(id);
    expect(back.pageSizes).toEqual([50, 100, 100, 100]);
    expect(ids(back.messages)).toEqual(ids(all));

    const forward: any[] = [];
    let page = await getPage(messagesPath("?after=0"));
    forward.push(...page.messages);
    while (page.next) {
      page = await getPage(follow(page.next));
      forward.push(...page.messages);
    }
    expect(ids(forward)).toEqual(ids(all));
  });

  it.each([
    ["before and after together", `?before=${Date.now() / 1000}&after=0`, undefined],
    ["a non-numeric before", "?before=yesterday", "before"],
    ["a non-numeric after", "?after=abc", "after"],
    ["a negative before", "?before=-5", "before"],
  ])("answers 400 to %s", async (_, query, field) => {
    expectError(await call("GET", messagesPath(query), app.token), 400, field);
  });
});

describe("the Conversation Durable Object", () => {
  const stubFor = (name: string) => env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(name)) as DurableObjectStub<Conversation>;
  const author = "aaaaaaaaaaaaaaaaaaaaaaaa";
  // A page larger than any conversation here: the whole conversation.
  const ALL = 1_000_000;

  it("gives strictly increasing received to many messages appended in one call", async () => {
    const stub = stubFor("one-call");
    await runInDurableObject(stub, async (conversation: Conversation) => {
      // One synchronous call: the clock does not move between these messages.
      const { appended } = await conversation.append(textMessages(author, 500));
      expectStrictlyIncreasing(appended.map((m) => m.received));
      const again = await conversation.append(textMessages(author, 3, "again"));
      expect(again.appended[0].received).toBeGreaterThan(appended[499].received);
      const stored = storedMessages(conversation.newest(ALL));
      expect(ids(stored)).toEqual(ids([...appended, ...again.appended]));
      expectStrictlyIncreasing(stored.map((m) => m.received));
    });
  });

  it("keeps received increasing after the object is evicted and restarts", async () => {
    const stub = stubFor("evicted");
    const first = await stub.append(textMessages(author, 300));
    await evictDurableObject(stub);
    const second = await stub.append(textMessages(author, 1, "after"));
    expect(second.appended[0].received).toBeGreaterThan(first.appended[299].received);
    const stored = storedMessages(await stub.newest(ALL));
    expect(stored).toHaveLength(301);
    expectStrictlyIncreasing(stored.map((m) => m.received));
  });

  it("absorbs the same messages twice without duplicating them", async () => {
    const source = stubFor("absorb-source");
    const target = stubFor("absorb-target");
    const from = "bbbbbbbbbbbbbbbbbbbbbbbb";
    const to = "cccccccccccccccccccccccc";
    await source.append([...textMessages(from, 20, "anon"), { ...textMessages(author, 1, "maker")[0], role: "appMaker" }]);
    // The target already holds messages at (some of) the same milliseconds.
    await target.append(textMessages(to, 10, "own"));
    const moving = storedMessages(await source.newest(ALL));

    await runInDurableObject(target, async (conversation: Conversation) => {
      await conversation.absorb(moving, from, to);
      const once = storedMessages(conversation.newest(ALL));
      await conversation.absorb(moving, from, to);
      const twice = storedMessages(conversation.newest(ALL));

      expect(twice).toEqual(once);
      expect(twice).toHaveLength(31);
      expect(new Set(ids(twice)).size).toBe(31);
      expectStrictlyIncreasing(twice.map((m) => m.received));
      const moved = twice.filter((m) => m.text.startsWith("anon"));
      expect(moved.map((m) => m.text)).toEqual(Array.from({ length: 20 }, (_, i) => `anon${i}`));
      expect(moved.every((m) => m.authorId === to)).toBe(true);
      expect(twice.find((m) => m.text === "maker0")?.authorId).toBe(author);
    });
  });

  it("newest() on a long conversation returns its last page", async () => {
    const stub = stubFor("long");
    const { appended } = await stub.append(textMessages(author, 350));
    await runInDurableObject(stub, async (conversation: Conversation) => {
      const page = conversation.newest();
      expect(ids(storedMessages(page))).toEqual(ids(appended.slice(-PAGE)));
      expect(page.hasOlder).toBe(true);
      expect(page.hasNewer).toBe(false);
    });
  });

  it("keeps the newest page it holds in memory as storage has it, through appends, erasures and redactions", async () => {
    const stub = stubFor("remembered-page");
    /** The page from memory, then from storage once the object has forgotten everything. */
    const bothPages = async () => {
      const remembered = await stub.newest();
      await evictDurableObject(stub);
      return { remembered, stored: await stub.newest() };
    };
    const expectSame = async () => {
      const { remembered, stored } = await bothPages();
      expect(remembered).toEqual(stored);
      return stored;
    };
    await stub.newest();
    await stub.append(textMessages(author, 60));
    await stub.newest();
    const { appended } = await stub.append(textMessages(author, 45).map((message) => ({ ...message, name: "Ann" })));
    const full = await expectSame();
    expect(full.hasOlder).toBe(true);
    expect(ids(storedMessages(full))).toEqual(ids(storedMessages(await stub.newest(350)).slice(-PAGE)));

    await stub.newest();
    await stub.eraseMessage("app", [author], appended[44]._id);
    expect(ids(storedMessages(await expectSame()))).not.toContain(appended[44]._id);

    expect(storedMessages(await stub.newest()).some((m) => m.name === "Ann")).toBe(true);
    await stub.redactAuthors([author]);
    expect(storedMessages(await expectSame()).some((m) => "name" in m)).toBe(false);

    await stub.newest();
    await stub.append(textMessages(author, 3));
    await expectSame();
  });

  it("newest() on exactly one page reports nothing older", async () => {
    const stub = stubFor("one-page");
    const { appended } = await stub.append(textMessages(author, PAGE));
    const page = await stub.newest();
    expect(ids(storedMessages(page))).toEqual(ids(appended));
    expect(page.hasOlder).toBe(false);
  });

  it("forwards to the survivor a message posted after a merge took the conversation's messages", async () => {
    const merged = stubFor("handover-source");
    const survivor = stubFor("handover-target");
    const from = "dddddddddddddddddddddddd";
    const to = "eeeeeeeeeeeeeeeeeeeeeeee";
    await merged.append(textMessages(from, 2, "before"));
    const moving = await merged.handOver({ conversationId: "handover-target", fromAuthorId: from, toAuthorId: to });
    // A post that resolved the merged user before D1 recorded the merge lands here now.
    const late = await merged.append(textMessages(from, 1, "late"));
    await survivor.absorb(moving, from, to);
    await merged.clear();

    expect(late.appended[0].authorId).toBe(to);
    const stored = storedMessages(await survivor.newest(ALL));
    expect(stored.map((m) => m.text).sort()).toEqual(["before0", "before1", "late0"]);
    expect(storedMessages(await merged.newest(ALL))).toEqual([]);
  });
});
