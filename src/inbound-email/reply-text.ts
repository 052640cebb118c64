/**
 * The new text of an emailed reply: what the business wrote above the quoted email it answers.
 * Mail clients quote in a few known ways; everything from the first such marker on is dropped.
 */

/** Gmail and Apple Mail: "On <date>, <name> <address> wrote:", which Gmail may wrap onto two lines. */
const WROTE = /^\s*On\b.*\bwrote:\s*$/i;
const WROTE_START = /^\s*On\b.{0,200}$/i;
const WROTE_END = /^.*\bwrote:\s*$/i;
/** Outlook: "-----Original Message-----", or a rule then a "From:" header block. */
const ORIGINAL = /^\s*-{2,}\s*Original Message\s*-{2,}\s*$/i;
const RULE = /^\s*_{10,}\s*$/;
const HEADER_BLOCK_START = /^\s*\*?From:\*?\s.+/i;
const HEADER_BLOCK_NEXT = /^\s*\*?(Sent|Date|To|Subject|Cc):\*?\s/i;
/** A signature: everything after a line of "-- " (RFC 3676's delimiter; some clients drop the space). */
const SIGNATURE = /^--\s?$/;

function quoteStart(lines: string[]): number {
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const next = lines[i + 1] ?? "";
    if (WROTE.test(line) || SIGNATURE.test(line) || ORIGINAL.test(line)) return i;
    if (WROTE_START.test(line) && WROTE_END.test(next) && !WROTE_END.test(line)) return i;
    if (RULE.test(line) && HEADER_BLOCK_START.test(next)) return i;
    if (HEADER_BLOCK_START.test(line) && HEADER_BLOCK_NEXT.test(next)) return i;
    if (line.startsWith(">")) return i;
  }
  return lines.length;
}

/** The reply's own text, trimmed; empty when it held only quoted text. */
export function stripQuotedReply(text: string): string {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  return lines.slice(0, quoteStart(lines)).join("\n").replace(/\n{3,}/g, "\n\n").trim();
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === "#") {
      const code = name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : "";
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/**
 * The text of an HTML-only email. Quoted blocks (<blockquote>, Gmail's gmail_quote, Outlook's
 * reply header) go with their content; block ends become line breaks; nothing is interpreted.
 */
export function htmlToText(html: string): string {
  const withoutQuotes = html
    .replace(/<(head|style|script|title)\b[\s\S]*?<\/\1\s*>/gi, "")
    .replace(/<blockquote\b[\s\S]*$/i, "")
    .replace(/<div[^>]*\b(class="[^"]*gmail_quote|id="(divRplyFwdMsg|appendonsend)")[\s\S]*$/i, "");
  const text = withoutQuotes
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/(p|div|tr|li|h[1-6]|table)\s*>/gi, "\n")
    .replace(/<[^>]*>/g, "");
  return decodeEntities(text)
    .split("\n")
    .map((line) => line.replace(/[ \t]+/g, " ").trim())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}
