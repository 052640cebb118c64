// The messenger's colours from the app's settings, and its texts: on Node.
import { describe, expect, it } from "vitest";
import { fill, textsWith, DEFAULT_TEXTS } from "../../src/browser/messenger/texts.ts";
import { contrast, hexColor, themeOf } from "../../src/browser/messenger/theme.ts";

describe("themeOf", () => {
  it("reads accentColor and brandColor as Smooch stores them (hex without #) or with #", () => {
    expect(themeOf({ accentColor: "0099ff", brandColor: "#ABC" })).toMatchObject({ accent: "#0099ff", brand: "#aabbcc" });
    expect(hexColor("red")).toBeUndefined();
    expect(hexColor(12)).toBeUndefined();
  });

  it("falls back to its own colours for missing or unreadable settings", () => {
    expect(themeOf({ accentColor: "nope" })).toEqual(themeOf());
  });

  it("puts text on each colour at WCAG AA contrast (4.5:1), light colours and dark alike", () => {
    for (const color of ["ffffff", "ffeb3b", "00ff00", "0099ff", "777777", "000000", "8b0000", "ff4081"]) {
      const theme = themeOf({ accentColor: color, brandColor: color });
      expect(contrast(theme.accent, theme.onAccent), color).toBeGreaterThanOrEqual(4.5);
      expect(contrast(theme.brand, theme.onBrand), color).toBeGreaterThanOrEqual(4.5);
    }
  });
});

describe("texts", () => {
  it("customText overrides the defaults it names, and nothing else", () => {
    const texts = textsWith({ headerText: "Bonjour", unknownKey: "x", inputPlaceholder: undefined });
    expect(texts.headerText).toBe("Bonjour");
    expect(texts.inputPlaceholder).toBe(DEFAULT_TEXTS.inputPlaceholder);
    expect("unknownKey" in texts).toBe(false);
  });

  it("fills placeholders, leaving unknown ones as written", () => {
    expect(fill("{name} is typing… {other}", { name: "Ada" })).toBe("Ada is typing… {other}");
  });
});
