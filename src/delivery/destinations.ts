import type { AppUser } from "../db/app-users";
import type { Destinations, Occasion } from "./channel";
import type { ChannelRegistry } from "./registry";

/**
 * Where the user's events go on this occasion, every channel asked side by side (each from its
 * isolate cache, so a post reads no D1 for it); undefined when no channel wants them.
 */
export async function destinationsFor(
  env: Env,
  channels: ChannelRegistry,
  user: AppUser,
  occasion: Occasion,
): Promise<Destinations | undefined> {
  const all = channels.all();
  const settled = await Promise.allSettled(all.map((channel) => channel.destinationFor(env, user, occasion)));
  // All settled before any failure is thrown, the first channel's first: work started side by side.
  const failure = settled.find((result) => result.status === "rejected");
  if (failure) throw failure.reason;
  const found = settled.map((result) => (result as PromiseFulfilledResult<unknown>).value);
  const destinations: Destinations = {};
  all.forEach((channel, i) => {
    if (found[i] !== undefined) destinations[channel.kind] = found[i];
  });
  return Object.keys(destinations).length > 0 ? destinations : undefined;
}

/** The destinations once a merge handed the conversation over to the survivor's user. */
export function handedOver(
  channels: ChannelRegistry,
  destinations: Destinations | undefined,
  to: { conversationId: string; toAuthorId: string },
): Destinations | undefined {
  if (!destinations) return undefined;
  return Object.fromEntries(
    Object.entries(destinations).map(([kind, destination]) => {
      const handOver = channels.get(kind)?.handOver;
      return [kind, handOver ? handOver(destination, to) : destination];
    }),
  );
}
