import { describe, expect, it } from "vitest";
import { LookupCache } from "../../../src/lib/ttl-cache";

// Issue 11, item 4: unknown tokens and kids (chosen by whoever calls) never evict or shadow a known one.

describe("the credential lookup cache", () => {
  it("keeps a hit however many misses come after it", async () => {
    const cache = new LookupCache<string>({ hits: 10, misses: 10 });
    let loads = 0;
    const load = (value: string | null) => async () => {
      loads++;
      return value;
    };
    expect(await cache.getOrLoad("valid", 60, load("app"))).toBe("app");
    for (let i = 0; i < 5_000; i++) expect(await cache.getOrLoad(`unknown-${i}`, 60, load(null))).toBeNull();
    loads = 0;
    expect(await cache.getOrLoad("valid", 60, load("reloaded"))).toBe("app");
    expect(loads).toBe(0);
  });

  it("bounds the misses it remembers", async () => {
    const cache = new LookupCache<string>({ hits: 10, misses: 3 });
    for (const key of ["a", "b", "c", "d"]) await cache.getOrLoad(key, 60, async () => null);
    // "a" was dropped: the next lookup loads again, and finds what now exists.
    expect(await cache.getOrLoad("a", 60, async () => "created since")).toBe("created since");
  });

  it("a remembered miss never hides a credential this isolate has since learnt of", async () => {
    const cache = new LookupCache<string>({ hits: 10, misses: 10 });
    expect(await cache.getOrLoad("new-kid", 60, async () => null)).toBeNull();
    cache.delete("new-kid");
    expect(await cache.getOrLoad("new-kid", 60, async () => "secret")).toBe("secret");
  });

  it("keeps only settled values: concurrent lookups load for themselves (no request waits on another's I/O), a failure is forgotten", async () => {
    const cache = new LookupCache<string>({ hits: 10, misses: 10 });
    let loads = 0;
    const slow = async () => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return "v";
    };
    expect(await Promise.all([cache.getOrLoad("k", 60, slow), cache.getOrLoad("k", 60, slow)])).toEqual(["v", "v"]);
    expect(loads).toBe(2);
    expect(await cache.getOrLoad("k", 60, slow)).toBe("v");
    expect(loads).toBe(2);
    await expect(cache.getOrLoad("x", 60, async () => Promise.reject(new Error("D1 down")))).rejects.toThrow("D1 down");
    expect(await cache.getOrLoad("x", 60, async () => "ok")).toBe("ok");
  });
});
