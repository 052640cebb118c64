import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { ApiError, ErrorCode, notFound } from "./errors";
import { publicAccess } from "./http/access";
import type { AppEnv } from "./http/context";
import { edge } from "./http/edge";
import { describe, openApiDocument } from "./http/openapi";
import { canonicalPath } from "./lib/canonical-path";
import { agentsRoutes } from "./routes/agents/routes";
import { appsRoutes } from "./routes/apps/apps";
import { keysRoutes } from "./routes/apps/keys";
import { appUsersRoutes } from "./routes/appusers/routes";
import { conversationEventRoutes } from "./routes/conversation/events";
import { conversationRoutes } from "./routes/conversation/routes";
import { conversationsRoutes } from "./routes/conversations/routes";
import { demoRoutes } from "./routes/demo/routes";
import { deskRoutes } from "./routes/desk/page";
import { docsRoutes } from "./routes/docs/routes";
import { fayeRoutes } from "./routes/faye/routes";
import { homeRoutes } from "./routes/home/routes";
import { imagesRoutes } from "./routes/images/routes";
import { initRoutes } from "./routes/init/routes";
import { integrationsRoutes } from "./routes/integrations/routes";
import { mediaRoutes } from "./routes/media/routes";
import { messengerRoutes } from "./routes/messenger/routes";
import { webhooksRoutes } from "./routes/webhooks/routes";
import { slackEventsRoutes } from "./routes/slack/routes";
import { whispersRoutes } from "./routes/whispers/routes";

const JSON_BODY_LIMIT = 100 * 1024;

/** Everything an app-scope credential reaches; an account reaches it under /v1/apps/{appId}. */
const appLevel = new Hono<AppEnv>()
  .route("/", initRoutes)
  .route("/", appUsersRoutes)
  .route("/", conversationRoutes)
  .route("/", conversationEventRoutes)
  .route("/", conversationsRoutes)
  .route("/", imagesRoutes)
  .route("/", whispersRoutes)
  .route("/", webhooksRoutes);

export const app = new Hono<AppEnv>({ getPath: canonicalPath });

app.use("*", edge);

const jsonBodyLimit = bodyLimit({
  maxSize: JSON_BODY_LIMIT,
  onError: () => {
    throw new ApiError(ErrorCode.PayloadTooLarge, `body: larger than ${JSON_BODY_LIMIT / 1024} KB`);
  },
});
// Multipart uploads carry their own, larger limit on their routes.
app.use("*", (c, next) =>
  c.req.header("content-type")?.toLowerCase().startsWith("multipart/") ? next() : jsonBodyLimit(c, next),
);

app.route("/", homeRoutes);
app.route("/v1", mediaRoutes);
app.route("/v1", appsRoutes);
app.route("/v1", keysRoutes);
app.route("/v1", agentsRoutes);
app.route("/v1", integrationsRoutes);
app.route("/v1", slackEventsRoutes);
app.route("/v1/apps/:appId", appLevel);
app.route("/v1", appLevel);
app.route("/", docsRoutes);
app.route("/", fayeRoutes);
app.route("/", messengerRoutes);
app.route("/", demoRoutes);
// Parley Desk (its page, script and API), behind Cloudflare Access: apart from the v1 API and its document.
app.mount("/desk", deskRoutes.fetch);

let document: ReturnType<typeof openApiDocument> | undefined;

app.get(
  "/v1/openapi.json",
  describe({
    summary: "This API's OpenAPI 3.1 document",
    tags: ["Meta"],
    responses: { 200: { description: "The document, generated from the schemas that validate each request." } },
  }),
  publicAccess,
  (c) => {
    // Built once per isolate, from the routes registered by then: all of them.
    document ??= openApiDocument(app.routes, {
      title: "Parley",
      version: "1",
      description:
        "The Smooch v1 conversation API on Cloudflare Workers. Path segments match without regard to case; " +
        "every `{appUserId}` also accepts the user's `userId`.",
    });
    // The request's own origin, so that requests copied from the reference are absolute URLs.
    return c.json({ ...document, servers: [{ url: new URL(c.req.url).origin }] });
  },
);

app.notFound((c) => notFound(`path: no route for ${c.req.method} ${new URL(c.req.url).pathname}`).toResponse());

app.onError((error, c) => {
  if (error instanceof ApiError) return error.toResponse();
  if (error instanceof HTTPException) return ApiError.fromStatus(error.status, error.message).toResponse();
  console.error(`request ${c.get("requestId")}: unhandled error`, error);
  return new ApiError(ErrorCode.Internal, "internal error").toResponse();
});
