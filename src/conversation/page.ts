/** Messages per page, for the conversation and for paging through messages. */
export const PAGE_SIZE = 100;

/**
 * A page of messages as the API answers it. The messages are already JSON (an array's text),
 * rendered in the conversation object from the stored bodies without parsing them: parsing
 * 100 bodies, cloning them across the RPC and serialising them again was most of the CPU a
 * post or a read spent (every post answers with the newest page).
 */
export interface MessagePage {
  /** The messages, oldest first, as a JSON array. */
  messagesJson: string;
  /** The `received` of the page's first and last message; null on an empty page. */
  firstReceived: number | null;
  lastReceived: number | null;
  /** Older messages exist before the first one of this page. */
  hasOlder: boolean;
  /** Newer messages exist after the last one of this page. */
  hasNewer: boolean;
  /** The appMaker messages the app user has not read (the conversation's, not the page's). */
  unreadCount: number;
}
