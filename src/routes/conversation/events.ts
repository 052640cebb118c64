import { Hono } from "hono";
import { sendActivityAs } from "../../conversation/activity";
import { markRead } from "../../conversation/mark-read";
import { postBack } from "../../conversation/postback";
import { appUserAccess } from "../../http/access";
import type { AppEnv } from "../../http/context";
import { describe } from "../../http/openapi";
import { jsonBody } from "../../http/validate";
import { activityBody, postbackBody, readBody } from "./schemas";

/** What happens in a conversation besides its messages: reads, postbacks, typing. */
export const conversationEventRoutes = new Hono<AppEnv>();

const tags = ["Conversations"];
const done = { 200: { description: "Done." } };

conversationEventRoutes.post(
  "/appusers/:appUserId/conversation/read",
  describe({
    summary: "Mark the conversation read",
    example: { role: "appUser" },
    description:
      "Marks the conversation read up to its newest message by the app user (the default: their `unreadCount`, the " +
      "appMaker messages since their last read, drops to 0) or, with `role: appMaker` and an app-scope credential, by " +
      "the business. Webhooks listening to `conversation:read` hear of it. A conversation without messages has " +
      "nothing to read: nothing changes.",
    tags,
    responses: done,
  }),
  ...appUserAccess,
  jsonBody(readBody),
  async (c) => {
    await markRead(c.env, c.get("credential"), c.get("appUser"), c.req.valid("json").role);
    return c.json({});
  },
);

conversationEventRoutes.post(
  "/appusers/:appUserId/conversation/postback",
  describe({
    summary: "Press a postback button",
    example: { actionId: "the _id of a postback action" },
    description:
      "Fires the `postback` webhooks: `{trigger: \"postback\", postbacks: [{message, action}], appUser}`, with the " +
      "appMaker message that carries the action. 404 when the conversation has no postback action with this `_id`.",
    tags,
    responses: done,
  }),
  ...appUserAccess,
  jsonBody(postbackBody),
  async (c) => {
    await postBack(c.env, c.get("appUser"), c.req.valid("json").actionId);
    return c.json({});
  },
);

conversationEventRoutes.post(
  "/appusers/:appUserId/conversation/activity",
  describe({
    summary: "Show typing",
    example: { role: "appMaker", type: "typing:start" },
    description:
      "`typing:start` or `typing:stop` as `appMaker` (smooch-core's `typingActivity`; app scope only): shown live to " +
      "the app user's web messenger as `{activity, role: \"appMaker\", data: {name, avatarUrl}}`, by default the " +
      "app's name and `iconUrl` setting. As `appUser` (any credential of the user): shown in the app's open Parley " +
      "Desks. Nothing is stored and no webhook fires.",
    tags,
    responses: done,
  }),
  ...appUserAccess,
  jsonBody(activityBody),
  async (c) => {
    await sendActivityAs(c.env, c.get("credential"), c.get("appUser"), c.req.valid("json"));
    return c.json({});
  },
);
