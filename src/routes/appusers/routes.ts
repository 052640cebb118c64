import { Hono } from "hono";
import { z } from "zod";
import { appUserAccess, serverAccess, serverAppUserAccess } from "../../http/access";
import type { AppEnv } from "../../http/context";
import { describe } from "../../http/openapi";
import { jsonBody } from "../../http/validate";
import { eraseProfile } from "../../erasure/profile";
import { eraseUser } from "../../erasure/user";
import { appUserSchema, deviceSchema, presentAppUser, presentDevice } from "../../presenters/app-user";
import { preCreateUser } from "../../users/create";
import { updateDevice } from "../../users/devices";
import { trackEvent } from "../../users/events";
import { updateUser } from "../../users/update";
import { preCreateBody, pushTokenBody, trackEventBody, updateAppUserBody, updateDeviceBody } from "./schemas";

export const appUsersRoutes = new Hono<AppEnv>();

const tags = ["App users"];
const oneUser = z.object({ appUser: appUserSchema });
const oneDevice = z.object({ device: deviceSchema });

appUsersRoutes.post(
  "/appusers",
  describe({
    summary: "Pre-create an app user",
    example: { userId: "alice@example.com", givenName: "Alice" },
    description: "Creates a user for a `userId` before that user first runs the app; 409 when the userId exists.",
    tags,
    errors: [409],
    responses: { 201: { description: "The new app user.", schema: oneUser } },
  }),
  ...serverAccess,
  jsonBody(preCreateBody),
  async (c) => c.json({ appUser: presentAppUser(await preCreateUser(c.env, c.get("appId"), c.req.valid("json"))) }, 201),
);

appUsersRoutes.get(
  "/appusers/:appUserId",
  describe({
    summary: "Get an app user",
    description: "`appUserId` is the user's `_id` or its `userId`.",
    tags,
    responses: { 200: { description: "The app user.", schema: oneUser } },
  }),
  ...appUserAccess,
  (c) => c.json({ appUser: presentAppUser(c.get("appUser")) }),
);

appUsersRoutes.put(
  "/appusers/:appUserId",
  describe({
    summary: "Update an app user",
    example: { givenName: "Bob", properties: { plan: "pro" } },
    description: "Additive: only the fields given, and only the keys of `properties` given, change.",
    tags,
    responses: { 200: { description: "The app user as it now reads.", schema: oneUser } },
  }),
  ...appUserAccess,
  jsonBody(updateAppUserBody),
  async (c) => c.json({ appUser: presentAppUser(await updateUser(c.env, c.get("appUser"), c.req.valid("json"))) }),
);

appUsersRoutes.post(
  "/appusers/:appUserId/events",
  describe({
    summary: "Track an event",
    example: { name: "completed_sale" },
    description: "Posts every whisper listening to the event; `appUser` attributes sent along update the user first.",
    tags,
    responses: {
      200: { description: "Whether a whisper posted to the conversation.", schema: z.object({ conversationUpdated: z.boolean() }) },
    },
  }),
  ...appUserAccess,
  jsonBody(trackEventBody),
  async (c) => {
    const { name, appUser: changes } = c.req.valid("json");
    return c.json({ conversationUpdated: await trackEvent(c.env, c.get("appUser"), name, changes ?? {}) });
  },
);

appUsersRoutes.put(
  "/appusers/:appUserId/devices/:deviceId",
  describe({ summary: "Update one of the user's devices", tags, example: { appVersion: "1.2.0" }, responses: { 200: { description: "The device.", schema: oneDevice } } }),
  ...appUserAccess,
  jsonBody(updateDeviceBody),
  async (c) =>
    c.json({ device: presentDevice(await updateDevice(c.env, c.get("appUser"), c.req.param("deviceId"), c.req.valid("json"))) }),
);

appUsersRoutes.post(
  "/appusers/:appUserId/pushtoken",
  describe({ summary: "Set a device's push token", tags, example: { deviceId: "device-1", token: "the device's push token" }, responses: { 200: { description: "The device.", schema: oneDevice } } }),
  ...appUserAccess,
  jsonBody(pushTokenBody),
  async (c) => {
    const { deviceId, token } = c.req.valid("json");
    return c.json({ device: presentDevice(await updateDevice(c.env, c.get("appUser"), deviceId, { pushNotificationToken: token })) });
  },
);

appUsersRoutes.delete(
  "/appusers/:appUserId",
  describe({
    summary: "Delete an app user",
    description:
      "App scope only. Deletes the user everywhere: its devices and their links, its conversation (messages, images, " +
      "pending webhook deliveries) and the users merged into it; its realtime clients are disconnected. A later init " +
      "with the same `userId` creates a new user with a new `_id`.",
    tags,
    responses: { 200: { description: "Deleted.", schema: z.object({}) } },
  }),
  ...serverAppUserAccess,
  async (c) => {
    await eraseUser(c.env, c.get("appUser"));
    return c.json({});
  },
);

appUsersRoutes.delete(
  "/appusers/:appUserId/profile",
  describe({
    summary: "Erase an app user's profile",
    description:
      "App scope only. Erases `givenName`, `surname`, `email`, every custom property, and the push tokens and " +
      "reported info of the user's devices; the names and avatars of the user's earlier messages too. `_id`, " +
      "`userId` and the conversation stay.",
    tags,
    responses: { 200: { description: "The app user as it now reads.", schema: oneUser } },
  }),
  ...serverAppUserAccess,
  async (c) => c.json({ appUser: presentAppUser(await eraseProfile(c.env, c.get("appUser"))) }),
);
