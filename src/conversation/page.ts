import type { ConversationMessage } from "../presenters/message";

/** Messages per page, for the conversation and for paging through messages. */
export const PAGE_SIZE = 100;

export interface MessagePage {
  messages: ConversationMessage[];
  /** Older messages exist before the first one of this page. */
  hasOlder: boolean;
  /** Newer messages exist after the last one of this page. */
  hasNewer: boolean;
  /** The appMaker messages the app user has not read (the conversation's, not the page's). */
  unreadCount: number;
}
