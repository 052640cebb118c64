import { Hono } from "hono";
import { z } from "zod";
import { changeConversation, conversationList, searchConversations } from "../../conversations-index/conversations";
import { conversationEntrySchema, searchResultSchema } from "../../presenters/conversation-entry";
import { serverAppUserAccess, serverReadAccess } from "../../http/access";
import { jsonText } from "../../http/json-text";
import type { AppEnv } from "../../http/context";
import { describe } from "../../http/openapi";
import { jsonBody, queryParams } from "../../http/validate";
import { changeConversationBody, listQuery, searchQuery } from "./schemas";

/** The conversation index's API: the business's servers (and the Desk) list, search and triage conversations. */
export const conversationsRoutes = new Hono<AppEnv>();

const tags = ["Conversation list"];

conversationsRoutes.get(
  "/conversations",
  describe({
    summary: "List the app's conversations",
    description:
      "Newest activity first, from the conversation index (fresh within about 2 s of a message). `status` is `open` unless given; " +
      "`before` takes the last entry's `lastActivity` for the next page.",
    tags,
    responses: {
      200: { description: "A page of conversations.", schema: z.object({ conversations: z.array(conversationEntrySchema), hasMore: z.boolean() }) },
    },
  }),
  ...serverReadAccess,
  queryParams(listQuery),
  async (c) => jsonText(c, await conversationList(c.env, c.get("appId"), c.req.valid("query"))),
);

conversationsRoutes.get(
  "/conversations/search",
  describe({
    summary: "Search the app's messages",
    description: "Messages whose text holds every word of `q` (case ignored, the last word as a prefix), newest first.",
    tags,
    responses: { 200: { description: "A page of matching messages.", schema: z.object({ results: z.array(searchResultSchema), hasMore: z.boolean() }) } },
  }),
  ...serverReadAccess,
  queryParams(searchQuery),
  async (c) => jsonText(c, await searchConversations(c.env, c.get("appId"), c.req.valid("query"))),
);

conversationsRoutes.put(
  "/appusers/:appUserId/conversation",
  describe({
    summary: "Close, reopen or assign a conversation",
    description:
      "`assignee` must be an agent of the app (`null` unassigns). A change fires the webhook trigger `conversation:status` or " +
      "`conversation:assignee`. A new appUser message reopens a closed conversation.",
    tags,
    example: { status: "closed", assignee: "ana@example.com" },
    responses: { 200: { description: "The conversation's list entry.", schema: z.object({ conversation: conversationEntrySchema }) } },
  }),
  ...serverAppUserAccess,
  jsonBody(changeConversationBody),
  async (c) => c.json({ conversation: await changeConversation(c.env, c.get("appUser"), c.req.valid("json")) }),
);
