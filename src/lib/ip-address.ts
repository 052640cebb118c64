/** Literal IP addresses as bytes: the webhook target check and the rate limits' caller identity read them. */

export const zeros = (n: number) => Array<number>(n).fill(0);

/** Four bytes from exactly `a.b.c.d` in decimal, or null. */
export function parseDottedDecimal(text: string): number[] | null {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return null;
  const octets = parts.map(Number);
  return octets.every((o) => o <= 255) ? octets : null;
}

/** Sixteen bytes, or null when `text` is not an IPv6 address (`::` and a trailing IPv4 allowed). */
export function parseIPv6(text: string): number[] | null {
  let head = text;
  const tail: number[] = [];
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = parseDottedDecimal(dotted[2]);
    if (!v4) return null;
    // "::1.2.3.4" keeps its "::"; "a:b:...:1.2.3.4" drops the colon before the IPv4.
    head = dotted[1].endsWith("::") ? dotted[1] : dotted[1].slice(0, -1);
    tail.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const groups = (half: string) => (half === "" ? [] : half.split(":"));
  const left = groups(halves[0]);
  const right = halves.length === 2 ? groups(halves[1]) : null;
  if (![...left, ...(right ?? [])].every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  const missing = 8 - left.length - (right?.length ?? 0) - tail.length;
  if (right === null ? missing !== 0 : missing < 1) return null;
  const hex = (group: string) => parseInt(group, 16);
  const words = [...left.map(hex), ...zeros(right === null ? 0 : missing), ...(right ?? []).map(hex), ...tail];
  return words.flatMap((word) => [word >> 8, word & 0xff]);
}

/**
 * Who a client address is for per-caller budgets: an IPv4 address itself, an IPv6 address its
 * /64 (one subscriber's whole network, which it can spread requests over freely).
 */
export function callerNetwork(address: string): string {
  const v6 = address.includes(":") ? parseIPv6(address.toLowerCase().replace(/^\[|\]$/g, "")) : null;
  if (!v6) return address;
  const words = Array.from({ length: 4 }, (_, i) => ((v6[2 * i] << 8) | v6[2 * i + 1]).toString(16));
  return `${words.join(":")}::/64`;
}

/** The client's address as Cloudflare reports it: the key of every per-caller budget, REST's and realtime's. */
export const callerAddress = (request: Request) => request.headers.get("cf-connecting-ip") ?? "unknown";
