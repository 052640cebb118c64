/**
 * A per-isolate cache with a time to live. Credentials and webhook lists are read on every
 * request; caching them here keeps D1 off the hot path, at the cost of a change made in
 * another isolate taking up to the TTL to be seen here. Only settled values are kept: a load
 * in flight is never shared with another request, since a Worker may not wait on another
 * request's I/O (workerd fails it, or it never settles once that request has ended).
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; stored: number; expires: number }>();

  constructor(private readonly maxEntries = 10_000) {}

  /** Returns the cached value, or loads, caches and returns it. Misses (null) are cached too; failures are not. */
  async getOrLoad(key: string, ttlSeconds: number, load: () => Promise<V>): Promise<V> {
    const cached = this.peek(key, ttlSeconds);
    if (cached) return cached.value;
    const value = await load();
    this.set(key, value, ttlSeconds);
    return value;
  }

  /**
   * The unexpired entry, if any, and no older than `maxAgeSeconds`: the reader's own bound holds
   * too, so a request whose config trusts caches less (AUTH_CACHE_SECONDS=0 in the cost test)
   * never sees what a request with a longer one cached.
   */
  peek(key: string, maxAgeSeconds = Infinity): { value: V } | undefined {
    const entry = this.entries.get(key);
    const now = Date.now();
    return entry && entry.expires > now && entry.stored + maxAgeSeconds * 1000 > now ? entry : undefined;
  }

  set(key: string, value: V, ttlSeconds: number): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      // Maps iterate in insertion order: drop the oldest entry.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    const now = Date.now();
    this.entries.set(key, { value, stored: now, expires: now + ttlSeconds * 1000 });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets every entry whose value matches (a change that several keys may show). */
  deleteWhere(matches: (value: V) => boolean): void {
    for (const [key, entry] of this.entries) if (matches(entry.value)) this.entries.delete(key);
  }
}

/**
 * A lookup whose misses are keyed by whoever calls (a guessed app token, an invented kid): hits
 * and misses are kept in separate caches, so that no number of misses can evict a hit, and a
 * miss is consulted only after the hits, so it never hides a credential this isolate knows.
 */
export class LookupCache<V> {
  private readonly hits: TtlCache<V>;
  private readonly misses: TtlCache<null>;

  constructor(bounds: { hits: number; misses: number } = { hits: 10_000, misses: 1_000 }) {
    this.hits = new TtlCache(bounds.hits);
    this.misses = new TtlCache(bounds.misses);
  }

  async getOrLoad(key: string, ttlSeconds: number, load: () => Promise<V | null>): Promise<V | null> {
    const cached = this.hits.peek(key, ttlSeconds) ?? this.misses.peek(key, ttlSeconds);
    if (cached) return cached.value;
    const value = await load();
    if (value === null) this.misses.set(key, null, ttlSeconds);
    else this.hits.set(key, value, ttlSeconds);
    return value;
  }

  delete(key: string): void {
    this.hits.delete(key);
    this.misses.delete(key);
  }
}
