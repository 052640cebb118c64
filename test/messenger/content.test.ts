// What a message shows besides its text: links, its time, and a control for every action type the API takes.
import { describe, expect, it } from "vitest";
import { ACTION_TYPES } from "../../src/enums.ts";
import { actionControl, linkParts, locationMessage, messageTime, price } from "../../src/browser/messenger/content.ts";
import { DEFAULT_TEXTS } from "../../src/browser/messenger/texts.ts";

describe("links in a message's text", () => {
  it("turns http(s) URLs into links, leaving a sentence's closing punctuation out", () => {
    expect(linkParts("See https://example.com/a?b=1, or http://x.test/p.")).toEqual([
      { text: "See " },
      { text: "https://example.com/a?b=1", href: "https://example.com/a?b=1" },
      { text: ", or " },
      { text: "http://x.test/p", href: "http://x.test/p" },
      { text: "." },
    ]);
  });

  it("links nothing but http(s): javascript:, data: and markup stay text", () => {
    for (const text of ['javascript:alert(1)', "data:text/html,<b>x</b>", '<a href="https://evil.test">x</a>', "ftp://files.test/x"]) {
      expect(linkParts(text).filter((part) => "href" in part).map((part) => part.text)).not.toContain(text);
    }
    expect(linkParts('<img src=x onerror=alert(1)> https://ok.test"><script>')).toEqual([
      { text: "<img src=x onerror=alert(1)> " },
      { text: "https://ok.test", href: "https://ok.test/" },
      { text: '"><script>' },
    ]);
    expect(linkParts("no links here")).toEqual([{ text: "no links here" }]);
  });
});

describe("a message's time", () => {
  it("is its received time, as an ISO datetime and as the visitor's locale writes it", () => {
    const time = messageTime(1795313577.804, "en-GB");
    expect(time.iso).toBe("2026-11-22T02:12:57.804Z");
    expect(time.label).toMatch(/2026/);
  });
});

describe("action buttons", () => {
  const control = (action: Record<string, unknown>) => actionControl({ _id: "a1", type: "link", ...action }, DEFAULT_TEXTS, "en-US");

  it("gives every action type the API accepts a control (quick replies are chips, drawn apart)", () => {
    const samples: Record<string, Record<string, unknown>> = {
      link: { uri: "https://example.com" },
      webview: { uri: "https://example.com" },
      postback: { payload: "p" },
      reply: { payload: "p" },
      locationRequest: {},
      share: {},
      buy: { amount: 1250, currency: "eur" },
    };
    for (const type of ACTION_TYPES.filter((type) => type !== "reply")) {
      expect(control({ type, text: "Go", ...samples[type] }), type).not.toBeNull();
    }
  });

  it("opens link and webview uris only when they are http(s)", () => {
    expect(control({ type: "link", text: "Site", uri: "https://example.com/x" })).toEqual({ kind: "link", label: "Site", href: "https://example.com/x" });
    expect(control({ type: "webview", text: "Form", uri: "javascript:alert(1)" })).toBeNull();
  });

  it("labels location and share buttons, by default from the texts", () => {
    expect(control({ type: "locationRequest", text: "Where are you?" })).toEqual({ kind: "locationRequest", label: "Where are you?" });
    expect(control({ type: "share" })).toEqual({ kind: "share", label: DEFAULT_TEXTS.shareButtonText });
  });

  it("shows a buy action as an offer with its price (Parley takes no payments)", () => {
    expect(control({ type: "buy", text: "T-shirt", amount: 1250, currency: "usd" })).toEqual({ kind: "offer", label: "T-shirt · $12.50" });
    expect(price(999, "xxx-not-a-currency")).toBe("9.99 XXX-NOT-A-CURRENCY");
  });

  it("answers a location request with the coordinates as text and as metadata", () => {
    expect(locationMessage({ latitude: 48.8583701, longitude: 2.2944813, accuracy: 12.7 }, DEFAULT_TEXTS.locationSentText)).toEqual({
      text: "My location: 48.85837, 2.294481",
      metadata: { latitude: 48.85837, longitude: 2.294481, accuracy: 13 },
    });
  });
});
