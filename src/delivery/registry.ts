import type { Channel, Job, QueuedJob } from "./channel";

/**
 * The channels the pipeline delivers through, by kind. The production list is fixed
 * (src/channels/registry.ts); a test may add a channel of its own in-process.
 */
export class ChannelRegistry {
  private readonly byKind = new Map<string, Channel>();

  constructor(channels: Channel<any, any, any>[]) {
    for (const channel of channels) this.add(channel);
  }

  add(channel: Channel<any, any, any>): void {
    this.byKind.set(channel.kind, channel as Channel);
  }

  remove(kind: string): void {
    this.byKind.delete(kind);
  }

  get(kind: string): Channel | undefined {
    return this.byKind.get(kind);
  }

  all(): Channel[] {
    return [...this.byKind.values()];
  }

  /**
   * The channel a queue message belongs to: the one it names, else the one that owns the queue
   * it is on (the first listed with that queue).
   */
  channelOf(queue: string, job: QueuedJob): Channel | undefined {
    if (job.channel) return this.get(job.channel);
    return this.all().find((channel) => channel.queueName === queue || channel.deadLetterQueueName === queue);
  }

  /** A job as it goes on its channel's queue: named with its channel when another channel owns that queue. */
  queued(channel: Channel, job: Job): QueuedJob {
    const owner = this.all().find((other) => other.queueName === channel.queueName);
    return owner === channel ? job : { ...job, channel: channel.kind };
  }

  /** Whether a queue is one of the channels' dead-letter queues. */
  isDeadLetterQueue(queue: string): boolean {
    return this.all().some((channel) => channel.deadLetterQueueName === queue);
  }
}
