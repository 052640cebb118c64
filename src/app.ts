import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./context";
import { ApiError, conflict, ErrorCode, notFound } from "./errors";
import { canonicalPath } from "./lib/canonical-path";
import { appsRoutes } from "./routes/apps/apps";
import { keysRoutes } from "./routes/apps/keys";
import { appUsersRoutes } from "./routes/appusers/routes";
import { conversationRoutes } from "./routes/conversation/routes";
import { docsRoutes } from "./routes/docs/routes";
import { imagesRoutes } from "./routes/images/routes";
import { initRoutes } from "./routes/init/routes";
import { mediaRoutes } from "./routes/media/routes";
import { webhooksRoutes } from "./routes/webhooks/routes";
import { whispersRoutes } from "./routes/whispers/routes";

const JSON_BODY_LIMIT = 100 * 1024;

/** Everything an app-scope credential reaches; an account reaches it under /v1/apps/{appId}. */
const appLevel = new Hono<AppEnv>()
  .route("/", initRoutes)
  .route("/", appUsersRoutes)
  .route("/", conversationRoutes)
  .route("/", imagesRoutes)
  .route("/", whispersRoutes)
  .route("/", webhooksRoutes);

export const app = new Hono<AppEnv>({ getPath: canonicalPath });

app.use(
  "*",
  cors({
    origin: "*",
    allowHeaders: ["app-token", "authorization", "content-type"],
    allowMethods: ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
    maxAge: 86400,
  }),
);

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

app.get("/", (c) => c.json({ name: "parley", api: "/v1" }));

app.route("/v1", mediaRoutes);
app.route("/v1", appsRoutes);
app.route("/v1", keysRoutes);
app.route("/v1/apps/:appId", appLevel);
app.route("/v1", appLevel);
app.route("/", docsRoutes);

app.notFound((c) => notFound(`path: no route for ${c.req.method} ${new URL(c.req.url).pathname}`).toResponse());

app.onError((error) => {
  if (error instanceof ApiError) return error.toResponse();
  if (error instanceof HTTPException) return ApiError.fromStatus(error.status, error.message).toResponse();
  // A row this request relied on changed under it (say, its app deleted while its credentials
  // were still cached): the contract's 409, not a server error.
  if (error instanceof Error && /constraint failed/i.test(error.message)) {
    return conflict("request: the resource changed concurrently, retry").toResponse();
  }
  console.error("unhandled error", error);
  return new ApiError(ErrorCode.Internal, "internal error").toResponse();
});
