import { Hono } from "hono";
import type { AppEnv } from "../../context";
import { insertAppUser, type AppUser } from "../../db/app-users";
import { updateUserDevice, type DeviceChanges } from "../../db/devices";
import { conflict, notFound } from "../../errors";
import { jsonBody } from "../../lib/validate";
import { newAppUser } from "../../users/create";
import { presentAppUser, presentDevice } from "../../users/present";
import { updateUser } from "../../users/update";
import { appUserAccess, serverAccess } from "../chains";
import { trackEvent } from "./track-event";
import { preCreateBody, pushTokenBody, trackEventBody, updateAppUserBody, updateDeviceBody } from "./schemas";

export const appUsersRoutes = new Hono<AppEnv>();

appUsersRoutes.post("/appusers", ...serverAccess, jsonBody(preCreateBody), async (c) => {
  const { userId, credentialRequired, givenName, surname, email, signedUpAt, properties } = c.req.valid("json");
  const user = newAppUser(c.get("appId"), {
    userId,
    credentialRequired,
    givenName: givenName ?? null,
    surname: surname ?? null,
    email: email ?? null,
    properties: properties ?? {},
    ...(signedUpAt && { signedUpAt }),
  });
  if (!(await insertAppUser(c.env.DB, user))) throw conflict(`userId: an app user '${userId}' already exists`);
  return c.json({ appUser: presentAppUser(user) }, 201);
});

appUsersRoutes.get("/appusers/:appUserId", ...appUserAccess, (c) => c.json({ appUser: presentAppUser(c.get("appUser")) }));

appUsersRoutes.put("/appusers/:appUserId", ...appUserAccess, jsonBody(updateAppUserBody), async (c) => {
  const user = await updateUser(c.env, c.get("appUser"), c.req.valid("json"));
  return c.json({ appUser: presentAppUser(user) });
});

appUsersRoutes.post("/appusers/:appUserId/events", ...appUserAccess, jsonBody(trackEventBody), async (c) => {
  const { name, appUser: changes } = c.req.valid("json");
  const user = await updateUser(c.env, c.get("appUser"), changes ?? {}, "appUser.properties");
  return c.json({ conversationUpdated: await trackEvent(c.env, user, name) });
});

async function updateDevice(env: Env, user: AppUser, deviceId: string, changes: DeviceChanges) {
  const device = await updateUserDevice(env.DB, user.appId, user.id, deviceId, changes);
  if (!device) throw notFound(`deviceId: app user '${user.id}' has no device '${deviceId}'`);
  return { device: presentDevice(device) };
}

appUsersRoutes.put("/appusers/:appUserId/devices/:deviceId", ...appUserAccess, jsonBody(updateDeviceBody), async (c) =>
  c.json(await updateDevice(c.env, c.get("appUser"), c.req.param("deviceId"), c.req.valid("json"))),
);

appUsersRoutes.post("/appusers/:appUserId/pushtoken", ...appUserAccess, jsonBody(pushTokenBody), async (c) => {
  const { deviceId, token } = c.req.valid("json");
  return c.json(await updateDevice(c.env, c.get("appUser"), deviceId, { pushNotificationToken: token }));
});
