import { Hono } from "hono";
import { z } from "zod";
import { publicAccess } from "../../http/access";
import type { AppEnv } from "../../http/context";
import { describe } from "../../http/openapi";
import { bayeuxBatch, handleFaye } from "../../realtime/endpoint";

/**
 * The realtime channel: Bayeux 1.0 as the faye client speaks it, over WebSocket, long-polling
 * (JSON or `message=` form bodies) and callback-polling (JSON-P). Subscriptions are authorised
 * by the `ext` of /meta/subscribe; see the README's realtime section.
 */
export const fayeRoutes = new Hono<AppEnv>();

const tags = ["Realtime"];
const replies = z.array(z.looseObject({ channel: z.string(), successful: z.boolean().optional() }));

fayeRoutes.get(
  "/faye",
  describe({
    summary: "Bayeux: WebSocket upgrade, or callback-polling",
    description:
      "With `Upgrade: websocket`, opens the socket Bayeux messages then travel over. Otherwise callback-polling: " +
      "`message` (a JSON batch) and `jsonp` (the callback name) in the query, answered with a script.",
    tags,
    query: z.object({ message: z.string().optional(), jsonp: z.string().optional() }),
    responses: {
      101: { description: "Switched to a WebSocket.", schema: null },
      200: { description: "The replies, as a JSON-P script.", contentType: "text/javascript", schema: null },
    },
  }),
  publicAccess,
  (c) => handleFaye(c.env, c.req.raw),
);

fayeRoutes.post(
  "/faye",
  describe({
    summary: "Bayeux: long-polling",
    example: [{ channel: "/meta/handshake", version: "1.0", supportedConnectionTypes: ["long-polling"] }],
    description:
      "A batch of Bayeux messages as a JSON body, or as `message=<JSON>` in a form body (cross-origin long-polling). " +
      "A `/meta/connect` is held until there are events for the client or the advised timeout passes.",
    tags,
    body: bayeuxBatch,
    responses: { 200: { description: "The replies, and any events for the client.", schema: replies } },
  }),
  publicAccess,
  (c) => handleFaye(c.env, c.req.raw),
);
