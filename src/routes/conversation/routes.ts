import { Hono } from "hono";
import { z } from "zod";
import type { MessagePage } from "../../conversation/page";
import { postMessage } from "../../conversation/post";
import { readConversation, readMessages } from "../../conversation/read";
import { appUserAccess, serverAppUserAccess } from "../../http/access";
import type { AppEnv } from "../../http/context";
import { describe } from "../../http/openapi";
import { jsonBody, queryParams } from "../../http/validate";
import { eraseMessage, eraseMessages } from "../../erasure/messages";
import { jsonText } from "../../http/json-text";
import { jsonWithRaw } from "../../lib/raw-json";
import { messageSchema } from "../../model/message";
import { conversationJson, conversationSchema, conversationSummarySchema, presentConversationSummary } from "../../presenters/conversation";
import { messagesQuery, postMessageBody } from "./schemas";

export const conversationRoutes = new Hono<AppEnv>();

const tags = ["Conversations"];

/** What posting a message answers, by JSON or by image upload. */
export const postedSchema = z.object({ message: messageSchema, conversation: conversationSchema });

conversationRoutes.get(
  "/appusers/:appUserId/conversation",
  describe({
    summary: "Get the conversation",
    description: "The newest 100 messages, oldest first; 404 until the first message.",
    tags,
    responses: { 200: { description: "The conversation.", schema: z.object({ conversation: conversationSchema }) } },
  }),
  ...appUserAccess,
  async (c) => {
    const user = c.get("appUser");
    return jsonText(c, jsonWithRaw({}, { conversation: conversationJson(user, await readConversation(c.env, user)) }));
  },
);

/** `previous` and `next` URLs, as later v1 returned them, where more messages exist. */
function pageLinks(requestUrl: string, page: MessagePage) {
  const link = (bound: "before" | "after", received: number) => {
    const url = new URL(requestUrl);
    url.search = `?${bound}=${received}`;
    return url.toString();
  };
  return {
    ...(page.hasOlder && page.firstReceived !== null && { previous: link("before", page.firstReceived) }),
    ...(page.hasNewer && page.lastReceived !== null && { next: link("after", page.lastReceived) }),
  };
}

// The contract's path, and the shorter one later revisions of v1 used.
const MESSAGES_PATHS = ["/appusers/:appUserId/conversation/messages", "/appusers/:appUserId/messages"];

for (const path of MESSAGES_PATHS) {
  /** The second spelling is documented as an alias of the first (in OpenAPI form, without /v1). */
  const alias = (suffix = "") =>
    path === MESSAGES_PATHS[0] ? {} : { aliasOf: `/v1${MESSAGES_PATHS[0].replace(":appUserId", "{appUserId}")}${suffix}` };
  conversationRoutes.post(
    path,
    describe({
      ...alias(),
      summary: "Post a message",
      description:
        "As `appUser` with any credential of the user, or as `appMaker` with an app-scope JWT. Only appMaker messages " +
        "carry `actions` (each gets an `_id`; a `buy` is `offered`). A message is `type: image` when it has a " +
        "`mediaUrl`, else `text`; its `source` names the `deviceId` it was sent with (type: that device's platform) " +
        "or is `{type: api}`. `_clientId` and `_clientSent` (sent by the web messengers) are accepted and not stored.",
      tags,
      example: { text: "Hello!", role: "appUser" },
      responses: { 201: { description: "The message, and the conversation's newest page.", schema: postedSchema } },
    }),
    ...appUserAccess,
    jsonBody(postMessageBody),
    async (c) => {
      const user = c.get("appUser");
      const { message, page } = await postMessage(c.env, c.get("credential"), user, c.req.valid("json"));
      return jsonText(c, jsonWithRaw({ message }, { conversation: conversationJson(user, page) }), 201);
    },
  );

  conversationRoutes.get(
    path,
    describe({
      ...alias(),
      summary: "Page through messages",
      description:
        "Up to 100 messages before or after a `received` time (bound excluded), oldest first; the newest without either. " +
        "`conversation` is the conversation without its messages (with `unreadCount`), as the 3.x web messenger reads it.",
      tags,
      responses: {
        200: {
          description: "A page of messages, with links to the neighbouring pages where more exist.",
          schema: z.object({
            conversation: conversationSummarySchema,
            messages: z.array(messageSchema),
            previous: z.string().optional(),
            next: z.string().optional(),
          }),
        },
      },
    }),
    ...appUserAccess,
    queryParams(messagesQuery),
    async (c) => {
      const user = c.get("appUser");
      const page = await readMessages(c.env, user, c.req.valid("query"));
      const summary = { conversation: presentConversationSummary(user, page.unreadCount), ...pageLinks(c.req.url, page) };
      return jsonText(c, jsonWithRaw(summary, { messages: page.messagesJson }));
    },
  );

  conversationRoutes.delete(
    path,
    describe({
      ...alias(),
      summary: "Delete every message",
      description:
        "App scope only. Deletes every message of the conversation, their images and their pending webhook deliveries; " +
        "the conversation then reads empty, and later messages still get later `received` times.",
      tags,
      responses: { 200: { description: "Deleted.", schema: z.object({}) } },
    }),
    ...serverAppUserAccess,
    async (c) => {
      await eraseMessages(c.env, c.get("appUser"));
      return c.json({});
    },
  );

  conversationRoutes.delete(
    `${path}/:messageId`,
    describe({
      ...alias("/{messageId}"),
      summary: "Delete a message",
      description: "App scope only. Deletes one message, its image and its pending webhook deliveries; 404 when the conversation has no such message.",
      tags,
      responses: { 200: { description: "Deleted.", schema: z.object({}) } },
    }),
    ...serverAppUserAccess,
    async (c) => {
      await eraseMessage(c.env, c.get("appUser"), c.req.param("messageId"));
      return c.json({});
    },
  );
}
