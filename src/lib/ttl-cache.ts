/**
 * A per-isolate cache with a time to live. Credentials and webhook lists are read on every
 * request; caching them here keeps D1 off the hot path, at the cost of a change made in
 * another isolate taking up to the TTL to be seen here.
 */
export class TtlCache<V> {
  // Promises, so that concurrent misses for one key share a single load.
  private readonly entries = new Map<string, { value: Promise<V>; expires: number }>();

  constructor(private readonly maxEntries = 10_000) {}

  /** Returns the cached value, or loads, caches and returns it. Misses (null) are cached too. */
  getOrLoad(key: string, ttlSeconds: number, load: () => Promise<V>): Promise<V> {
    const cached = this.peek(key);
    if (cached) return cached;
    const value = load();
    this.set(key, value, ttlSeconds);
    // A failed load is not remembered: the next request tries again.
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }

  /** The unexpired value, if any. */
  peek(key: string): Promise<V> | undefined {
    const entry = this.entries.get(key);
    return entry && entry.expires > Date.now() ? entry.value : undefined;
  }

  set(key: string, value: Promise<V>, ttlSeconds: number): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      // Maps iterate in insertion order: drop the oldest entry.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { value, expires: Date.now() + ttlSeconds * 1000 });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

/**
 * A lookup whose misses are keyed by whoever calls (a guessed app token, an invented kid): hits
 * and misses are kept in separate caches, so that no number of misses can evict a hit, and a
 * miss is consulted only after the hits, so it never hides a credential this isolate knows.
 */
export class LookupCache<V> {
  private readonly hits: TtlCache<V | null>;
  private readonly misses: TtlCache<V | null>;
  /** Loads in flight, shared by concurrent lookups; one older than the TTL is not waited for. */
  private readonly loading = new Map<string, { value: Promise<V | null>; expires: number }>();

  constructor(bounds: { hits: number; misses: number } = { hits: 10_000, misses: 1_000 }) {
    this.hits = new TtlCache(bounds.hits);
    this.misses = new TtlCache(bounds.misses);
  }

  getOrLoad(key: string, ttlSeconds: number, load: () => Promise<V | null>): Promise<V | null> {
    const inFlight = this.loading.get(key);
    const cached = this.hits.peek(key) ?? this.misses.peek(key) ?? (inFlight && inFlight.expires > Date.now() ? inFlight.value : undefined);
    if (cached) return cached;
    const value = load().finally(() => {
      if (this.loading.get(key)?.value === value) this.loading.delete(key);
    });
    this.loading.set(key, { value, expires: Date.now() + ttlSeconds * 1000 });
    return value.then((result) => {
      (result === null ? this.misses : this.hits).set(key, Promise.resolve(result), ttlSeconds);
      return result;
    });
  }

  delete(key: string): void {
    this.hits.delete(key);
    this.misses.delete(key);
  }
}
