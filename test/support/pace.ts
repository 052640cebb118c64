// Pacing requests: bounded concurrency and waiting. Runtime-neutral.

/** Resolves after `ms` milliseconds (at once for zero or less). */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * Runs `task(i)` for i in [0, count) with at most `concurrency` in flight; the results in index
 * order. A task that throws rejects the whole, as Promise.all does.
 */
export async function pool<T>(count: number, concurrency: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}
