/**
 * Colours from the app's settings (`accentColor` for the visitor's bubbles and buttons,
 * `brandColor` for the header), each with the text colour that reads on it at WCAG AA.
 */
export interface Theme {
  accent: string;
  onAccent: string;
  brand: string;
  onBrand: string;
}

const DEFAULT_ACCENT = "#0b5ed7";
const DEFAULT_BRAND = "#1f2937";

/** "0099ff", "#09f" or "#0099FF" as "#0099ff"; anything else as undefined. */
export function hexColor(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const hex = value.trim().replace(/^#/, "").toLowerCase();
  if (/^[0-9a-f]{6}$/.test(hex)) return `#${hex}`;
  if (/^[0-9a-f]{3}$/.test(hex)) return `#${[...hex].map((c) => c + c).join("")}`;
  return undefined;
}

/** Relative luminance of "#rrggbb" (WCAG 2). */
export function luminance(color: string): number {
  const channel = (at: number) => {
    const value = parseInt(color.slice(at, at + 2), 16) / 255;
    return value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

export function contrast(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
}

/** White or black, whichever contrasts more with the background. */
export function readableOn(background: string): string {
  return contrast(background, "#ffffff") >= contrast(background, "#000000") ? "#ffffff" : "#000000";
}

export function themeOf(settings: { accentColor?: unknown; brandColor?: unknown } = {}): Theme {
  const accent = hexColor(settings.accentColor) ?? DEFAULT_ACCENT;
  const brand = hexColor(settings.brandColor) ?? DEFAULT_BRAND;
  return { accent, onAccent: readableOn(accent), brand, onBrand: readableOn(brand) };
}
