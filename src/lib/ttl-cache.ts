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
    const entry = this.entries.get(key);
    if (entry && entry.expires > Date.now()) return entry.value;
    if (this.entries.size >= this.maxEntries) {
      // Maps iterate in insertion order: drop the oldest entry.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    const value = load();
    this.entries.set(key, { value, expires: Date.now() + ttlSeconds * 1000 });
    // A failed load is not remembered: the next request tries again.
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
