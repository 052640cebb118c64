/**
 * Both results once both have settled, or the first one's failure before the second's: work
 * started side by side still fails with the error its order of checks gives precedence to.
 */
export async function settledTogether<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [first, second] = await Promise.allSettled([a, b]);
  if (first.status === "rejected") throw first.reason;
  if (second.status === "rejected") throw second.reason;
  return [first.value, second.value];
}
