import { env } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { isPrivateHost } from "../../../../src/outbound/private-host";
import { call, createApp, expectError, hexId, interceptFetch, runQueue, type TestApp } from "../../support/helpers";

// Issue 11, item 2: no webhook reaches a non-public address, however it is spelled.
// WEBHOOK_ALLOW_PRIVATE_TARGETS is "false" in wrangler.toml, which the tests run with.

/** Every spelling the URL parser accepts for a non-public address, and what it means. */
const REFUSED: Array<[string, string]> = [
  // Names that mean this machine by convention
  ["http://localhost/", "localhost"],
  ["http://localhost./", "localhost, fully qualified"],
  ["http://LocalHost:8080/", "localhost in capitals"],
  ["http://api.localhost/", "*.localhost"],
  ["http://api.localhost./", "*.localhost, fully qualified"],
  ["http://printer.local/", "mDNS"],
  ["http://metadata.google.internal/", "*.internal"],
  ["http://router.home.arpa/", "home.arpa"],
  ["http://localtest.me/", "a public name that resolves to 127.0.0.1"],
  ["http://app.lvh.me/", "a public name that resolves to 127.0.0.1"],
  // Wildcard DNS that embeds the address
  ["http://127.0.0.1.nip.io/", "nip.io, dotted"],
  ["http://app.10.0.0.1.nip.io/", "nip.io, dotted after a label"],
  ["http://magic-127-0-0-1.nip.io/", "nip.io, dashed with a prefix"],
  ["http://c0a80001.nip.io/", "nip.io, hex"],
  ["http://10-0-0-1.sslip.io/", "sslip.io, dashed"],
  ["http://192.168.0.1.sslip.io./", "sslip.io, dotted, fully qualified"],
  ["http://--1.sslip.io/", "sslip.io, IPv6 ::1 dashed"],
  ["http://www.sslip.io/", "sslip.io without an address"],
  ["http://169.254.169.254.xip.io/", "xip.io"],
  // IPv4 in every spelling
  ["http://127.0.0.1/", "loopback"],
  ["http://127.0.0.1./", "loopback, trailing dot"],
  ["http://127.1/", "short form"],
  ["http://127.0.1/", "short form, three parts"],
  ["http://2130706433/", "one decimal number"],
  ["http://0x7f000001/", "one hex number"],
  ["http://017700000001/", "one octal number"],
  ["http://0x7f.0.0.1/", "hex part"],
  ["http://0177.0.0.01/", "octal parts"],
  ["http://0x7F.1/", "hex short form"],
  ["http://0/", "zero"],
  ["http://0.0.0.0/", "this network"],
  ["http://0.1.2.3/", "0.0.0.0/8"],
  ["http://10.0.0.1/", "10/8"],
  ["http://10.1/", "10/8 short"],
  ["http://167772161/", "10.0.0.1 as a number"],
  ["http://100.64.0.1/", "carrier-grade NAT"],
  ["http://100.127.255.254/", "carrier-grade NAT, top"],
  ["http://169.254.169.254/", "link-local (cloud metadata)"],
  ["http://172.16.0.1/", "172.16/12"],
  ["http://172.31.255.254/", "172.16/12, top"],
  ["http://192.0.0.1/", "192.0.0.0/24"],
  ["http://192.0.2.1/", "documentation"],
  ["http://192.168.1.1/", "192.168/16"],
  ["http://198.18.0.1/", "benchmarking 198.18/15"],
  ["http://198.19.255.254/", "benchmarking, top"],
  ["http://224.0.0.1/", "multicast"],
  ["http://239.255.255.250/", "multicast, top"],
  ["http://240.0.0.1/", "reserved"],
  ["http://255.255.255.255/", "broadcast"],
  ["http://4294967295/", "broadcast as a number"],
  // IPv6, and IPv6 that carries IPv4
  ["http://[::1]/", "loopback"],
  ["http://[0:0:0:0:0:0:0:1]/", "loopback, long"],
  ["http://[::]/", "unspecified"],
  ["http://[::127.0.0.1]/", "IPv4-compatible"],
  ["http://[::7f00:1]/", "IPv4-compatible, hex"],
  ["http://[::ffff:127.0.0.1]/", "IPv4-mapped"],
  ["http://[::ffff:7f00:1]/", "IPv4-mapped, hex"],
  ["http://[0:0:0:0:0:ffff:10.0.0.1]/", "IPv4-mapped, long"],
  ["http://[::ffff:0:7f00:1]/", "IPv4-translated"],
  ["http://[64:ff9b::127.0.0.1]/", "NAT64"],
  ["http://[64:ff9b::a00:1]/", "NAT64, hex"],
  ["http://[64:ff9b:1::1]/", "local-use NAT64"],
  ["http://[2002:7f00:1::1]/", "6to4 over loopback"],
  ["http://[2002:c0a8:101::]/", "6to4 over 192.168.1.1"],
  ["http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "Teredo, client 127.0.0.1"],
  ["http://[2001:0:a00:1::1]/", "Teredo, server 10.0.0.1"],
  ["http://[fc00::1]/", "unique local"],
  ["http://[fdff:ffff::1]/", "unique local, top"],
  ["http://[fe80::1]/", "link-local"],
  ["http://[febf::1]/", "link-local, top"],
  ["http://[fec0::1]/", "site-local"],
  ["http://[ff02::1]/", "multicast"],
  ["http://[2001:db8::1]/", "documentation"],
  ["http://[100::1]/", "discard"],
];

const ALLOWED = [
  "https://hooks.example.com/parley",
  "https://10.example.com/",
  "https://1.1.1.1/",
  "https://8.8.8.8.nip.io/",
  "https://1-1-1-1.sslip.io/",
  "http://172.32.0.1/",
  "http://100.63.255.255/",
  "http://100.128.0.1/",
  "http://192.0.3.1/",
  "http://198.20.0.1/",
  "http://223.255.255.254/",
  "https://[2606:4700:4700::1111]/",
  "http://[::ffff:8.8.8.8]/",
  "http://[64:ff9b::808:808]/",
  "http://[2002:808:808::1]/",
];

let app: TestApp;
let webhookId: string;

beforeAll(async () => {
  app = await createApp("targets");
  webhookId = (await call("POST", "/v1/webhooks", app.server, { body: { target: "https://hooks.example.com/a" } })).json.webhook._id;
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("webhook targets", () => {
  it.each(REFUSED)("refuses %s (%s) at create and at update", async (target) => {
    const created = await call("POST", "/v1/webhooks", app.server, { body: { target } });
    if (created.status === 201) await call("DELETE", `/v1/webhooks/${created.json.webhook._id}`, app.server);
    expectError(created, 400, "target");
    expectError(await call("PUT", `/v1/webhooks/${webhookId}`, app.server, { body: { target } }), 400, "target");
  });

  it.each(ALLOWED)("accepts the public %s", async (target) => {
    const created = await call("POST", "/v1/webhooks", app.server, { body: { target } });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    await call("DELETE", `/v1/webhooks/${created.json.webhook._id}`, app.server);
  });

  it.each(REFUSED)("refuses %s (%s) again at delivery, for a target stored before the check", async (target) => {
    const created = await call("POST", "/v1/webhooks", app.server, { body: { target: "https://hooks.example.com/b" } });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const id = created.json.webhook._id;
    await env.DB.prepare("UPDATE webhooks SET target = ? WHERE id = ?").bind(target, id).run();
    const { sent } = interceptFetch();
    const messageId = hexId();
    const { result } = await runQueue("parley-webhooks", [
      {
        body: {
          conversation: "c",
          deliveryId: hexId(),
          webhookId: id,
          messageId,
          trigger: "message:appUser",
          body: JSON.stringify({ trigger: "message:appUser", messages: [{ _id: messageId }] }),
        },
      },
    ]);
    expect(sent).toHaveLength(0);
    expect(result.explicitAcks).toHaveLength(1);
    const { json } = await call("GET", `/v1/webhooks/${id}/deliveries`, app.server);
    expect(json.deliveries[0]).toMatchObject({ outcome: "failed", lastError: "target is on a private network" });
    await call("DELETE", `/v1/webhooks/${id}`, app.server);
  });
});

describe("the check itself, on host names as given (not only as the URL parser normalises them)", () => {
  it("sees what workerd's URL parser does to each spelling, and judges the raw spelling the same", () => {
    for (const [target] of REFUSED) {
      const raw = /^http:\/\/(\[[^\]]+\]|[^/:]+)/.exec(target)![1];
      expect(isPrivateHost(raw), raw).toBe(true);
      expect(isPrivateHost(new URL(target).hostname), new URL(target).hostname).toBe(true);
    }
    // The parser writes numeric IPv4 forms as dotted quads and embedded IPv4 in hex; it keeps a trailing dot.
    expect(new URL("http://0x7f.1/").hostname).toBe("127.0.0.1");
    expect(new URL("http://017700000001/").hostname).toBe("127.0.0.1");
    expect(new URL("http://[::127.0.0.1]/").hostname).toBe("[::7f00:1]");
    expect(new URL("http://localhost./").hostname).toBe("localhost.");
  });

  it.each(ALLOWED)("finds %s public in both spellings", (target) => {
    const raw = /^https?:\/\/(\[[^\]]+\]|[^/:]+)/.exec(target)![1];
    expect(isPrivateHost(raw)).toBe(false);
    expect(isPrivateHost(new URL(target).hostname)).toBe(false);
  });

  it.each(["[::1::2]", "[1:2:3:4:5:6:7:8:9]", "[::ffff:999.0.0.1]", "[gggg::1]"])("refuses the unparseable IPv6 %s", (host) => {
    expect(isPrivateHost(host)).toBe(true);
  });
});
