import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { presentAgent } from "../../agents/presenter";
import { appAgents } from "../../agents/agents";
import { cachedAppUser } from "../../auth/app-users";
import { sendActivity } from "../../conversation/activity";
import { markRead } from "../../conversation/mark-read";
import { postMessage } from "../../conversation/post";
import { readMessages } from "../../conversation/read";
import { changeConversation, conversationEntry, conversationList, searchConversations } from "../../conversations-index/conversations";
import type { AppUser } from "../../db/app-users";
import { deskIdentity, type DeskIdentity } from "../../desk/access";
import { agentAuthor, deskAgent, deskApps, deskCredential, enrolLocalAssignee, profileDevices, type DeskAgent } from "../../desk/desk";
import { openLive } from "../../desk-live/announce";
import { ApiError, ErrorCode, forbidden, notFound } from "../../errors";
import { imageUploadLimit, readImageForm } from "../../http/image-form";
import { jsonText } from "../../http/json-text";
import { parseWith } from "../../http/validate";
import { postImage } from "../../media/upload";
import { presentAppUser } from "../../presenters/app-user";
import type { ConversationMessage } from "../../model/message";
import { changeConversationBody, deskActivityBody, deskMessageBody, historyQuery, listQuery, searchQuery } from "./schemas";

interface DeskEnv {
  Bindings: Env;
  Variables: { identity: DeskIdentity; agent: DeskAgent; appId: string; appUser: AppUser };
}

type Context = Parameters<Parameters<typeof createMiddleware<DeskEnv>>[0]>[0];

/**
 * The Desk page's own API (`/desk/api`), behind Cloudflare Access rather than Parley's credentials:
 * every request's Access token is verified (src/desk/access.ts), and an app is reached only by
 * its agents. Mounted apart from the v1 API, so it is not in the OpenAPI document.
 */
export const deskApi = new Hono<DeskEnv>();

/** Who is calling, first of all: 401 (or 404 without Access off loopback) before anything else is said. */
deskApi.use("*", async (c, next) => {
  c.set("identity", await deskIdentity(c.env, c.req.raw));
  await next();
});

/**
 * The Access cookie rides along with any request the browser sends to this host, a cross-site
 * form's too: a request that changes something must come from the Desk page itself (its Origin).
 */
deskApi.use("*", async (c, next) => {
  if (c.req.method !== "GET" && c.req.method !== "HEAD" && c.req.header("origin") !== new URL(c.req.url).origin) {
    throw forbidden("origin: the Desk changes things only for requests from its own page");
  }
  await next();
});

/** The app in the path, once the identity is known to be one of its agents. */
deskApi.use("/apps/:appId/*", async (c, next) => {
  const appId = c.req.param("appId");
  c.set("agent", await deskAgent(c.env, c.get("identity"), appId));
  c.set("appId", appId);
  await next();
});

deskApi.use("/apps/:appId/appusers/:appUserId/*", async (c, next) => {
  const id = c.req.param("appUserId");
  const user = await cachedAppUser(c.env, c.get("appId"), id);
  if (!user) throw notFound(`appUserId: no app user '${id}'`);
  c.set("appUser", user);
  await next();
});

const query = <S extends Parameters<typeof parseWith>[0]>(c: Context, schema: S) => parseWith(schema, c.req.query(), "query");
async function body<S extends Parameters<typeof parseWith>[0]>(c: Context, schema: S) {
  const json = await c.req.json().catch(() => {
    throw new ApiError(ErrorCode.BadRequest, "body: malformed JSON");
  });
  return parseWith(schema, json, "body");
}

deskApi.get("/apps", async (c) => {
  const identity = c.get("identity");
  const apps = await deskApps(c.env, identity);
  return c.json({ email: identity.email, apps: apps.map((app) => ({ _id: app.id, name: app.name })) });
});

deskApi.get("/apps/:appId/agents", async (c) =>
  c.json({ me: c.get("agent"), agents: (await appAgents(c.env, c.get("appId"))).map(presentAgent) }),
);

deskApi.get("/apps/:appId/conversations", async (c) => jsonText(c, await conversationList(c.env, c.get("appId"), query(c, listQuery))));

deskApi.get("/apps/:appId/conversations/search", async (c) => jsonText(c, await searchConversations(c.env, c.get("appId"), query(c, searchQuery))));

deskApi.get("/apps/:appId/appusers/:appUserId/messages", async (c) => {
  const user = c.get("appUser");
  const [page, devices] = await Promise.all([readMessages(c.env, user, query(c, historyQuery)), profileDevices(c.env, user)]);
  return c.json({
    appUser: presentAppUser(user),
    conversation: { _id: user.conversationId },
    messages: JSON.parse(page.messagesJson) as ConversationMessage[],
    hasOlder: page.hasOlder,
    devices,
  });
});

deskApi.post("/apps/:appId/appusers/:appUserId/messages", async (c) => {
  const { text } = await body(c, deskMessageBody);
  const { message } = await postMessage(c.env, deskCredential(c.get("appId")), c.get("appUser"), { ...agentAuthor(c.get("agent")), text });
  return c.json({ message }, 201);
});

/** An image the agent sends, uploaded as the v1 `/images` endpoint takes it (the file in `source`). */
deskApi.post("/apps/:appId/appusers/:appUserId/images", imageUploadLimit, async (c) => {
  const form = await readImageForm(c.req.raw);
  const author = agentAuthor(c.get("agent"));
  const { message } = await postImage(
    c.env,
    deskCredential(c.get("appId")),
    c.get("appUser"),
    form.get("source"),
    () => author,
    new URL(c.req.url).origin,
  );
  return c.json({ message }, 201);
});

deskApi.post("/apps/:appId/appusers/:appUserId/read", async (c) => {
  await markRead(c.env, deskCredential(c.get("appId")), c.get("appUser"), "appMaker");
  return c.json({});
});

deskApi.post("/apps/:appId/appusers/:appUserId/activity", async (c) => {
  const { type } = await body(c, deskActivityBody);
  await sendActivity(c.env, c.get("appUser"), { type, name: c.get("agent").name });
  return c.json({});
});

deskApi.get("/apps/:appId/appusers/:appUserId/conversation", async (c) => c.json({ conversation: await conversationEntry(c.env, c.get("appUser")) }));

deskApi.put("/apps/:appId/appusers/:appUserId/conversation", async (c) => {
  const changes = await body(c, changeConversationBody);
  await enrolLocalAssignee(c.env, c.get("identity"), c.get("appId"), changes.assignee);
  return c.json({ conversation: await changeConversation(c.env, c.get("appUser"), changes) });
});

/**
 * The app's live channel: a WebSocket over which the page hears of every change to the app's
 * conversations (src/desk-live/room.ts). A cross-site page's socket would carry the Access
 * cookie too, and browsers apply no CORS to WebSockets: only the Desk's own origin may open one.
 */
deskApi.get("/apps/:appId/live", async (c) => {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError(ErrorCode.UpgradeRequired, "upgrade: open this as a WebSocket");
  }
  if (c.req.header("origin") !== new URL(c.req.url).origin) throw forbidden("origin: the Desk's live channel opens only from its own page");
  const identity = c.get("identity");
  return openLive(c.env, c.get("appId"), c.req.raw, { email: identity.email, expiresAt: identity.kind === "access" ? identity.expiresAt : undefined });
});

deskApi.notFound((c) => notFound(`path: no route for ${c.req.method} ${new URL(c.req.url).pathname}`).toResponse());
/** The contract's error shape for whatever a Desk route throws (the page's routes too). */
export function deskErrorResponse(error: Error): Response {
  if (error instanceof ApiError) return error.toResponse();
  console.error("desk: unhandled error", error);
  return new ApiError(ErrorCode.Internal, "internal error").toResponse();
}
deskApi.onError(deskErrorResponse);
