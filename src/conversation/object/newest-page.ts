import { PAGE_SIZE } from "../page";

/** A stored message as a page shows it: its `received` (ms) and its JSON. */
export interface RenderedMessage {
  receivedMs: number;
  json: string;
}

/**
 * The conversation's newest page, rendered, kept in memory between the writes that change it:
 * every post answers with it and most reads ask for it, and reading and rendering up to a hundred
 * rows for each was most of the storage work of a post to a busy conversation. Appends add to it
 * once their transaction has committed; any other change to the messages forgets it, and the next
 * read loads it again. It holds PAGE_SIZE messages at most, whatever the conversation's length.
 */
export class NewestPage {
  /** Oldest first; null when not known. */
  private messages: RenderedMessage[] | null = null;
  private older = false;

  /** The page; `load` reads the newest PAGE_SIZE + 1 messages, newest first, when it is not known. */
  get(load: () => RenderedMessage[]): { messages: RenderedMessage[]; hasOlder: boolean } {
    if (!this.messages) {
      const newestFirst = load();
      this.older = newestFirst.length > PAGE_SIZE;
      this.messages = newestFirst.slice(0, PAGE_SIZE).reverse();
    }
    return { messages: this.messages, hasOlder: this.older };
  }

  /** Messages whose append has committed, each newer than every one before. */
  appended(messages: RenderedMessage[]): void {
    if (!this.messages) return;
    this.messages.push(...messages);
    const excess = this.messages.length - PAGE_SIZE;
    if (excess > 0) {
      this.messages.splice(0, excess);
      this.older = true;
    }
  }

  forget(): void {
    this.messages = null;
  }
}
