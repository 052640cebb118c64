import { Hono } from "hono";
import { z } from "zod";
import { appAccess } from "../../http/access";
import type { AppEnv } from "../../http/context";
import { describe } from "../../http/openapi";
import { jsonBody } from "../../http/validate";
import { appMetadataSchema, presentAppMetadata } from "../../presenters/app";
import { appUserSchema, presentAppUser } from "../../presenters/app-user";
import { initialize } from "../../users/init";
import { initBody } from "./schemas";

export const initRoutes = new Hono<AppEnv>();

initRoutes.post(
  "/init",
  describe({
    summary: "Initialise a device",
    example: { device: { id: "device-1", platform: "web" }, userId: "bob@example.com" },
    description:
      "Called by a device or browser when the app loads: registers the device, creates or finds its app user " +
      "(by `userId` when given, merging the device's anonymous user into it), and returns the user now active " +
      "on the device. Profile fields sent along update the user additively. An empty `userId` means none, as the " +
      "Smooch web messengers send it for anonymous visitors.",
    tags: ["Init"],
    responses: {
      200: {
        description: "The app as the device sees it, and the active app user.",
        schema: z.object({ app: appMetadataSchema, appUser: appUserSchema }),
      },
    },
  }),
  ...appAccess,
  jsonBody(initBody),
  async (c) => {
    const { app, integrations, user } = await initialize(c.env, c.get("appId"), c.get("credential"), c.req.valid("json"));
    return c.json({ app: presentAppMetadata(app, integrations), appUser: presentAppUser(user) });
  },
);
