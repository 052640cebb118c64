import { Hono } from "hono";
import type { AppEnv } from "../../context";
import { cachedApp } from "../../auth/lookup";
import { jsonBody } from "../../lib/validate";
import { presentAppUser } from "../../users/present";
import { appAccess } from "../chains";
import { initialize } from "./initialize";
import { initBody } from "./schemas";

export const initRoutes = new Hono<AppEnv>();

initRoutes.post("/init", ...appAccess, jsonBody(initBody), async (c) => {
  const appId = c.get("appId");
  const [user, app] = await Promise.all([
    initialize(c.env, appId, c.get("credential"), c.req.valid("json")),
    cachedApp(c.env, appId),
  ]);
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
