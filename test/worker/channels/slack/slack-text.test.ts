// Slack's markup to plain text and back, and the request signature, as pure functions.
import { describe, expect, it } from "vitest";
import { escapeForSlack, mentionedUsers, plainText } from "../../../../src/channels/slack/markup";
import { isSlackSigned } from "../../../../src/channels/slack/signature";
import { slackSignature } from "../../../support/slack-fake";

describe("Slack's markup", () => {
  it("writes out links, mentions, channels and special mentions, and undoes the escapes", () => {
    const names = new Map([["U1", "Ana Lima"]]);
    expect(plainText("<https://x.example/a|the docs> and <https://y.example>", names)).toBe("the docs (https://x.example/a) and https://y.example");
    expect(plainText("<mailto:a@b.example|a@b.example>")).toBe("a@b.example");
    expect(plainText("hi <@U1>, <@U2|bob> in <#C1|general> <!here>", names)).toBe("hi @Ana Lima, @bob in #general @here");
    expect(plainText("a &lt;b&gt; &amp;amp; c")).toBe("a <b> &amp; c");
    expect(mentionedUsers("<@U1> <@U2|bob> <#C1>")).toEqual(["U1", "U2"]);
  });

  it("escapes what Parley posts, so a user's text cannot make a reference", () => {
    expect(escapeForSlack("<!channel> & <https://evil|x>")).toBe("&lt;!channel&gt; &amp; &lt;https://evil|x&gt;");
    expect(plainText(escapeForSlack("a <b> & c"))).toBe("a <b> & c");
  });
});

describe("the request signature", () => {
  const secret = "0123456789abcdef0123456789abcdef";
  const now = 1_800_000_000;
  const headersOf = async (s: string, at: number, body: string) => {
    const h = await slackSignature(s, at, body);
    return { timestamp: h["x-slack-request-timestamp"], signature: h["x-slack-signature"] };
  };

  it("takes Slack's v0 signature of the raw body within five minutes", async () => {
    expect(await isSlackSigned(secret, await headersOf(secret, now, "{}"), "{}", now)).toBe(true);
    expect(await isSlackSigned(secret, await headersOf(secret, now - 300, "{}"), "{}", now)).toBe(true);
  });

  it("refuses a wrong secret, another body, a stale or future timestamp, and malformed headers", async () => {
    expect(await isSlackSigned(secret, await headersOf("ffffffffffffffffffffffffffffffff", now, "{}"), "{}", now)).toBe(false);
    expect(await isSlackSigned(secret, await headersOf(secret, now, "{}"), '{"a":1}', now)).toBe(false);
    expect(await isSlackSigned(secret, await headersOf(secret, now - 301, "{}"), "{}", now)).toBe(false);
    expect(await isSlackSigned(secret, await headersOf(secret, now + 301, "{}"), "{}", now)).toBe(false);
    expect(await isSlackSigned(secret, { timestamp: undefined, signature: undefined }, "{}", now)).toBe(false);
    expect(await isSlackSigned(secret, { timestamp: String(now), signature: "v1=abc" }, "{}", now)).toBe(false);
  });
});
