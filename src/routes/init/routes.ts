import { Hono } from "hono";
import type { AppEnv } from "../../context";
import { cachedApp } from "../../auth/lookup";
import { jsonBody } from "../../lib/validate";
import { presentAppUser } from "../../users/present";
import { updateUser } from "../../users/update";
import { appAccess } from "../chains";
import { initialize } from "./initialize";
import { initBody } from "./schemas";

export const initRoutes = new Hono<AppEnv>();

initRoutes.post("/init", ...appAccess, jsonBody(initBody), async (c) => {
  const appId = c.get("appId");
  const { givenName, surname, email, signedUpAt, properties, ...body } = c.req.valid("json");
  const [signedIn, app] = await Promise.all([
    initialize(c.env, appId, c.get("credential"), body),
    cachedApp(c.env, appId),
  ]);
  const user = await updateUser(c.env, signedIn, { givenName, surname, email, signedUpAt, properties });
  const settings = app?.settings ?? {};
  return c.json({
    app: {
      hasIcon: Boolean(settings.iconUrl) || settings.hasIcon === true,
      apnEnabled: settings.apnEnabled === true,
      gcmProject: typeof settings.gcmProject === "string" ? settings.gcmProject : null,
    },
    appUser: presentAppUser(user),
  });
});
