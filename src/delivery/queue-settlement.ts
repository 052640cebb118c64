/**
 * Per-message settlement of a queue batch, for any consumer: each message is acknowledged or
 * retried as soon as its own work finishes, so one slow or failing message never holds back, or
 * re-sends, the others. A batch has a time budget: messages not started when it runs out are
 * handed back untried, and the consumer returns as soon as the work in flight is done.
 */

/** What one message's work concluded. */
export type Verdict = { ack: true } | { ack: false; delaySeconds?: number };

export const ACK: Verdict = { ack: true };
export const retryAfter = (delaySeconds?: number): Verdict => ({ ack: false, delaySeconds });

export interface SettlementOptions<Body> {
  /** After this many milliseconds no further message is started. */
  budgetMs: number;
  /**
   * Messages with the same lane are worked one after another in batch order; lanes run side by
   * side. Without it every message is its own lane.
   */
  lane?: (body: Body) => string;
  /**
   * Puts untried messages back as new ones, so they are not charged an attempt: Queues counts
   * every retry() towards max_retries, and a message the budget skipped a few times would reach
   * the dead-letter queue without ever being tried. They are acknowledged once this resolves;
   * without it, or if it throws, they are retried instead (an attempt charged, nothing lost).
   */
  requeue?: (untried: readonly Message<Body>[]) => Promise<unknown>;
}

export interface SettlementReport {
  /** Messages whose work ran (whatever it concluded). */
  worked: number;
  /** Messages handed back untried because the budget ran out. */
  untried: number;
}

function settle(message: Message<unknown>, verdict: Verdict): void {
  if (verdict.ack) message.ack();
  else message.retry(verdict.delaySeconds === undefined ? undefined : { delaySeconds: verdict.delaySeconds });
}

function lanes<Body>(messages: readonly Message<Body>[], lane?: (body: Body) => string): Message<Body>[][] {
  if (!lane) return messages.map((message) => [message]);
  const groups = new Map<string, Message<Body>[]>();
  for (const message of messages) {
    const key = lane(message.body);
    const group = groups.get(key);
    if (group) group.push(message);
    else groups.set(key, [message]);
  }
  return [...groups.values()];
}

async function handBack<Body>(untried: readonly Message<Body>[], requeue: SettlementOptions<Body>["requeue"]) {
  if (untried.length === 0) return;
  try {
    if (!requeue) throw new Error("no requeue");
    await requeue(untried);
    for (const message of untried) message.ack();
  } catch {
    for (const message of untried) message.retry();
  }
}

/**
 * Works every message of `batch` with `work` and settles each on its own verdict. A `work` that
 * throws retries its message with the queue's default delay.
 */
export async function settleEach<Body>(
  batch: MessageBatch<Body>,
  work: (message: Message<Body>) => Promise<Verdict>,
  options: SettlementOptions<Body>,
): Promise<SettlementReport> {
  const pending = lanes(batch.messages, options.lane);
  let worked = 0;
  let open = true;
  const untried: Message<Body>[] = [];
  let closed!: () => void;
  const budgetOver = new Promise<void>((resolve) => (closed = resolve));
  const timer = setTimeout(() => {
    open = false;
    for (const group of pending) untried.push(...group.splice(0));
    closed();
  }, options.budgetMs);

  const run = async (group: Message<Body>[]) => {
    while (open && group.length > 0) {
      const message = group.shift()!;
      worked++;
      let verdict: Verdict;
      try {
        verdict = await work(message);
      } catch (error) {
        console.error("queue message work failed", error);
        verdict = retryAfter();
      }
      settle(message, verdict);
    }
  };
  // Untried messages go back as soon as the budget runs out, not when the slowest work ends.
  const handedBack = budgetOver.then(() => handBack(untried, options.requeue));
  await Promise.all(pending.map(run));
  clearTimeout(timer);
  if (open) closed();
  await handedBack;
  return { worked, untried: untried.length };
}
