import { Hono } from "hono";
import { z } from "zod";
import { publicAccess } from "../../http/access";
import type { AppEnv } from "../../http/context";
import { describe } from "../../http/openapi";
import { serveMedia } from "../../media/serve";

/** Serves uploaded images. Public, like Smooch's media URLs: the random key is the secret. */
export const mediaRoutes = new Hono<AppEnv>();

const image = z.string().meta({ format: "binary" });

mediaRoutes.get(
  "/media/:key",
  describe({
    summary: "Get an uploaded image",
    description:
      "Public, like Smooch's media URLs: the random key is the secret. Follows HTTP: If-Match (412), If-None-Match " +
      "(304), one byte range (206; 416 when it selects no byte; a malformed one is ignored). Served with the sniffed " +
      "type, `nosniff` and a sandboxing Content-Security-Policy.",
    tags: ["Media"],
    errors: [412, 416],
    responses: {
      200: { description: "The image.", contentType: "image/*", schema: image },
      206: { description: "The requested range of the image.", contentType: "image/*", schema: image },
      304: { description: "The client's copy is current.", schema: null },
    },
  }),
  publicAccess,
  (c) => serveMedia(c.env, c.req.param("key"), c.req.raw.headers),
);
