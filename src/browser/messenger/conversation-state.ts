import type { Entry, Message, Pending } from "./types.ts";

/**
 * What the visitor's conversation holds, apart from any DOM or network: the stored messages in
 * `received` order (each once, however often a page, a realtime event or a POST answer brings
 * it), the visitor's messages still on their way, and the unread count.
 */
export class ConversationState {
  messages: Message[] = [];
  pending: Pending[] = [];
  /** Whether older messages than the first one held exist on the server. */
  hasOlder = false;
  unread = 0;
  private known = new Set<string>();
  private localIds = 0;

  constructor(private readonly deviceId: string) {}

  /**
   * Merges a page of history (oldest first): an older page, or the newest one (at start, and to
   * catch up after the realtime channel was down). Answers the messages it did not hold before.
   */
  addPage(messages: Message[], hasOlder: boolean, older: boolean): Message[] {
    const newest = this.messages.at(-1);
    const gap = !older && hasOlder && newest !== undefined && messages.length > 0 && messages[0].received > newest.received;
    // More was missed than a page holds: what is held no longer joins up with it, so it goes.
    const fresh = messages.filter((message) => !this.known.has(message._id));
    if (gap) {
      this.messages = [];
      this.known.clear();
    }
    for (const message of messages) this.receive(message);
    if (older || gap || this.messages.length === messages.length) this.hasOlder = hasOlder;
    return fresh;
  }

  /** The `before` cursor for the page older than what is held. */
  get oldestReceived(): number | undefined {
    return this.messages[0]?.received;
  }

  /**
   * A message from the realtime channel or a POST answer. A message this device sent settles the
   * pending entry it came from (the realtime echo may beat the POST answer). Answers whether it is new.
   */
  receive(message: Message): boolean {
    if (this.known.has(message._id)) return false;
    if (message.role === "appUser" && message.source?.id === this.deviceId) {
      const at = this.pending.findIndex((p) => p.status === "sending" && (p.image ? message.type === "image" : p.text === message.text));
      if (at >= 0) this.pending.splice(at, 1);
    }
    this.insert(message);
    return true;
  }

  /** The POST answer for a pending message: it leaves the pending list, its message joins (once). */
  settle(localId: string, message: Message): boolean {
    this.pending = this.pending.filter((p) => p.localId !== localId);
    if (this.known.has(message._id)) return false;
    this.insert(message);
    return true;
  }

  addPending(text: string, image?: Pending["image"]): Pending {
    const pending: Pending = { localId: `local-${++this.localIds}`, text, status: "sending", ...(image && { image }) };
    this.pending.push(pending);
    return pending;
  }

  findPending(localId: string): Pending | undefined {
    return this.pending.find((p) => p.localId === localId);
  }

  /** The unread count once `message` arrives: business messages count while the visitor is not looking. */
  unreadAfter(message: Message, looking: boolean): number {
    return message.role === "appMaker" && !looking ? this.unread + 1 : this.unread;
  }

  /**
   * The unread count after the newest page: the server's count when it read the page, plus the
   * business messages held that are newer than the page (realtime events that overtook it).
   */
  unreadWithPage(pageUnread: number, page: Message[]): number {
    const newest = page.at(-1)?.received ?? -Infinity;
    return pageUnread + this.messages.filter((m) => m.role === "appMaker" && m.received > newest).length;
  }

  /** What the view shows, in order: the stored messages, then the visitor's pending ones. */
  entries(): Entry[] {
    return [
      ...this.messages.map((message): Entry => ({ kind: "stored", message })),
      ...this.pending.map((pending): Entry => ({ kind: "pending", pending })),
    ];
  }

  private insert(message: Message): void {
    this.known.add(message._id);
    let at = this.messages.length;
    while (at > 0 && this.messages[at - 1].received > message.received) at--;
    this.messages.splice(at, 0, message);
  }
}
