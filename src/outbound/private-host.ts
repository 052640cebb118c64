import { config } from "../config";
import { parseDottedDecimal, parseIPv6, zeros } from "../lib/ip-address";

/**
 * Whether Parley must not send to this URL, one that a caller chose (a webhook target, a Web
 * Push subscription's endpoint): its host is private and WEBHOOK_ALLOW_PRIVATE_TARGETS is not
 * "true" (local development). Judged again before every send, so that neither can be used to
 * probe the operator's internal network.
 */
export const isRefusedTarget = (env: Env, url: string) =>
  !config(env).webhookAllowPrivateTargets && isPrivateHost(new URL(url).hostname);

/**
 * Whether a host is not on the public internet: this machine, a private or reserved network,
 * or a name that by convention means one. Literal addresses are judged in every spelling the
 * URL parser accepts; names are judged by what they say, since a Worker cannot resolve them
 * before its fetch does.
 */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "").replace(/\.+$/, "");
  if (host.includes(":")) {
    const v6 = parseIPv6(host);
    return v6 === null || isPrivateIPv6(v6);
  }
  const v4 = parseIPv4(host);
  if (v4 !== null) return isPrivateIPv4(v4);
  return isPrivateName(host);
}

// --- Names -------------------------------------------------------------------------------------

/** Suffixes that never name a public host: RFC 6761 and 8375, mDNS, cloud metadata. */
const PRIVATE_SUFFIXES = ["localhost", "local", "internal", "home.arpa", "localdomain"];

/** Public names whose every subdomain resolves to 127.0.0.1 by their owners' convention. */
const LOOPBACK_DOMAINS = ["localtest.me", "lvh.me", "vcap.me", "lacolhost.com", "localhost.direct", "fbi.com"];

/** Wildcard DNS services: the address is written into the name (dotted, dashed or in hex). */
const WILDCARD_DOMAINS = ["nip.io", "sslip.io", "xip.io", "nip.direct", "traefik.me", "backname.io", "localh.st"];

const under = (host: string, domain: string) => host === domain || host.endsWith(`.${domain}`);

function isPrivateName(host: string): boolean {
  if (PRIVATE_SUFFIXES.some((suffix) => under(host, suffix))) return true;
  if (LOOPBACK_DOMAINS.some((domain) => under(host, domain))) return true;
  const wildcard = WILDCARD_DOMAINS.find((domain) => under(host, domain));
  const embedded = embeddedAddresses(wildcard ? host.slice(0, -wildcard.length - 1) : host, wildcard !== undefined);
  if (embedded.some((address) => (address.length === 4 ? isPrivateIPv4(address) : isPrivateIPv6(address)))) return true;
  // A wildcard service's name without a public address in it answers with its own or a private one.
  return wildcard !== undefined && embedded.length === 0;
}

/**
 * The addresses a name spells out as wildcard DNS reads them: `10.0.0.1.x` and `a-10-0-0-1.x`
 * anywhere (no public name spells a private address by accident), and under a wildcard service
 * also `0a000001.x` (hex) and `--1.x` (IPv6, dashes for colons).
 */
function embeddedAddresses(name: string, wildcard: boolean): number[][] {
  if (name === "") return [];
  const labels = name.split(".");
  const found: number[][] = [];
  for (let i = 0; i + 4 <= labels.length; i++) {
    const dotted = parseDottedDecimal(labels.slice(i, i + 4).join("."));
    if (dotted) found.push(dotted);
  }
  for (const label of labels) {
    const dashed = /(?:^|-)(\d{1,3}-\d{1,3}-\d{1,3}-\d{1,3})$/.exec(label);
    const v4 = dashed && parseDottedDecimal(dashed[1].replaceAll("-", "."));
    if (v4) found.push(v4);
    if (!wildcard) continue;
    const hex = /(?:^|-)([0-9a-f]{8})$/.exec(label);
    if (hex) found.push(bytesOf(parseInt(hex[1], 16)));
    const v6 = label.includes("--") ? parseIPv6(label.replaceAll("-", ":")) : null;
    if (v6) found.push(v6);
  }
  return found;
}


// --- IPv4 --------------------------------------------------------------------------------------

const bytesOf = (n: number) => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

/** A WHATWG URL IPv4 host: 1 to 4 parts, each decimal, 0x-hex or 0-octal, the last filling the rest. */
function parseIPv4(host: string): number[] | null {
  const parts = host.split(".");
  if (parts.length > 4 || parts.some((p) => p === "")) return null;
  const numbers: number[] = [];
  for (const part of parts) {
    const match = /^(?:0x([0-9a-f]*)|(0[0-7]*)|([1-9]\d*))$/.exec(part);
    if (!match) return null;
    const value = match[1] !== undefined ? parseInt(match[1] || "0", 16) : match[2] !== undefined ? parseInt(match[2], 8) : Number(match[3]);
    numbers.push(value);
  }
  const last = numbers.pop()!;
  if (numbers.some((n) => n > 255) || last >= 256 ** (4 - numbers.length)) return null;
  return bytesOf(numbers.reduce((sum, n, i) => sum + n * 256 ** (3 - i), 0) + last);
}

/** [first address, prefix length] of every IPv4 block that is not the public internet (RFC 6890). */
const PRIVATE_V4: Array<[number[], number]> = [
  [[0, 0, 0, 0], 8], // this network
  [[10, 0, 0, 0], 8],
  [[100, 64, 0, 0], 10], // carrier-grade NAT
  [[127, 0, 0, 0], 8],
  [[169, 254, 0, 0], 16], // link-local, cloud metadata
  [[172, 16, 0, 0], 12],
  [[192, 0, 0, 0], 24], // IETF protocol assignments
  [[192, 0, 2, 0], 24], // documentation
  [[192, 88, 99, 0], 24], // 6to4 relay anycast
  [[192, 168, 0, 0], 16],
  [[198, 18, 0, 0], 15], // benchmarking
  [[198, 51, 100, 0], 24], // documentation
  [[203, 0, 113, 0], 24], // documentation
  [[224, 0, 0, 0], 4], // multicast
  [[240, 0, 0, 0], 4], // reserved, and the broadcast address
];

const inBlock = (address: number[], [base, bits]: [number[], number]) =>
  base.every((byte, i) => {
    const width = Math.min(8, Math.max(0, bits - i * 8));
    const mask = (0xff << (8 - width)) & 0xff;
    return (address[i] & mask) === (byte & mask);
  });

function isPrivateIPv4(address: number[]): boolean {
  return PRIVATE_V4.some((block) => inBlock(address, block));
}

// --- IPv6 --------------------------------------------------------------------------------------

const startsWith = (address: number[], prefix: number[]) => prefix.every((byte, i) => address[i] === byte);

/** [prefix bytes, prefix length] of IPv6 blocks that are never public. */
const PRIVATE_V6: Array<[number[], number]> = [
  [[0xfc], 7], // unique local
  [[0xfe, 0x80], 10], // link-local
  [[0xfe, 0xc0], 10], // site-local (deprecated)
  [[0xff], 8], // multicast
  [[0x20, 0x01, 0x0d, 0xb8], 32], // documentation
  [[0x01, 0x00, ...zeros(6)], 64], // discard
  [[0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], 48], // local-use NAT64
];

function isPrivateIPv6(address: number[]): boolean {
  const v4At = (i: number) => address.slice(i, i + 4);
  // ::/96: unspecified, loopback and the deprecated IPv4-compatible form; none is routable.
  if (startsWith(address, zeros(12))) return true;
  if (startsWith(address, [...zeros(10), 0xff, 0xff])) return isPrivateIPv4(v4At(12)); // IPv4-mapped
  if (startsWith(address, [...zeros(8), 0xff, 0xff, 0, 0])) return isPrivateIPv4(v4At(12)); // IPv4-translated
  if (startsWith(address, [0x00, 0x64, 0xff, 0x9b, ...zeros(8)])) return isPrivateIPv4(v4At(12)); // NAT64
  if (startsWith(address, [0x20, 0x02])) return isPrivateIPv4(v4At(2)); // 6to4
  if (startsWith(address, [0x20, 0x01, 0x00, 0x00])) {
    // Teredo: the server's address, then the client's, inverted.
    return isPrivateIPv4(v4At(4)) || isPrivateIPv4(v4At(12).map((byte) => byte ^ 0xff));
  }
  return PRIVATE_V6.some((block) => inBlock(address, block));
}
