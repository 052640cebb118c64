import { Hono, type Context } from "hono";
import { isServerCredential, type Credential } from "../../auth/credential";
import { composeMessage, type MessageInput } from "../../conversation/compose";
import type { MessagePage, Role } from "../../conversation/message";
import { postMessages, presentConversation } from "../../conversation/post";
import { conversationStub } from "../../conversation/stub";
import type { AppEnv } from "../../context";
import { forbidden, notFound } from "../../errors";
import { jsonBody, queryParams } from "../../lib/validate";
import { appUserAccess } from "../chains";
import { messagesQuery, postMessageBody } from "./schemas";

export const conversationRoutes = new Hono<AppEnv>();

conversationRoutes.get("/appusers/:appUserId/conversation", ...appUserAccess, async (c) => {
  const user = c.get("appUser");
  const page = await conversationStub(c.env, user.conversationId).newest();
  if (page.messages.length === 0) throw notFound(`conversation: app user '${user.id}' has no conversation yet`);
  return c.json({ conversation: presentConversation(user, page.messages) });
});

/** Only the business's servers speak as the app maker. */
export function assertMayPostAs(credential: Credential, role: Role): void {
  if (role === "appMaker" && !isServerCredential(credential)) {
    throw forbidden("role: appMaker messages require a JWT with app scope");
  }
}

/** Posts one message on behalf of the caller; shared by the JSON and the image routes. */
export async function postMessage(c: Context<AppEnv>, input: MessageInput) {
  assertMayPostAs(c.get("credential"), input.role);
  const user = c.get("appUser");
  const { appended, page } = await postMessages(c.env, user, [await composeMessage(user, input)]);
  return c.json({ message: appended[0], conversation: presentConversation(user, page.messages) }, 201);
}

for (const path of ["/appusers/:appUserId/conversation/messages", "/appusers/:appUserId/messages"]) {
  conversationRoutes.post(path, ...appUserAccess, jsonBody(postMessageBody), (c) => postMessage(c, c.req.valid("json")));

  conversationRoutes.get(path, ...appUserAccess, queryParams(messagesQuery), async (c) => {
    const { before, after } = c.req.valid("query");
    const stub = conversationStub(c.env, c.get("appUser").conversationId);
    const page: MessagePage =
      before !== undefined
        ? await stub.before(Math.round(before * 1000))
        : after !== undefined
          ? await stub.after(Math.round(after * 1000))
          : await stub.newest();
    return c.json({ messages: page.messages, ...pageLinks(c.req.url, page) });
  });
}

/** `previous` and `next` URLs, as later v1 returned them, where more messages exist. */
function pageLinks(requestUrl: string, page: MessagePage) {
  const link = (bound: "before" | "after", received: number) => {
    const url = new URL(requestUrl);
    url.search = `?${bound}=${received}`;
    return url.toString();
  };
  const first = page.messages[0];
  const last = page.messages[page.messages.length - 1];
  return {
    ...(page.hasOlder && first && { previous: link("before", first.received) }),
    ...(page.hasNewer && last && { next: link("after", last.received) }),
  };
}
