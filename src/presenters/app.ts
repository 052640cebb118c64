import { z } from "zod";
import type { AppKey } from "../db/app-keys";
import type { App } from "../db/apps";
import { flatObjectShape } from "../lib/schemas";

export const appSchema = z
  .object({ _id: z.string(), name: z.string(), appToken: z.string(), settings: flatObjectShape })
  .meta({ id: "App", description: "An app: its own users, keys, webhooks and whispers." });

export const keySchema = z
  .object({ _id: z.string(), name: z.string(), secret: z.string() })
  .meta({ id: "Key", description: "A secret key of an app; its _id is the `kid` of the JWTs it signs." });

/** What init tells a device about its app. */
export const appMetadataSchema = z
  .object({ hasIcon: z.boolean(), apnEnabled: z.boolean(), gcmProject: z.string().nullable() })
  .meta({ id: "AppMetadata", description: "The app as a device sees it at init: its icon and push channels." });

export const presentApp = (app: App): z.output<typeof appSchema> => ({
  _id: app.id,
  name: app.name,
  appToken: app.appToken,
  settings: app.settings,
});

export const presentKey = (key: AppKey): z.output<typeof keySchema> => ({ _id: key.id, name: key.name, secret: key.secret });

export function presentAppMetadata(app: App | null): z.output<typeof appMetadataSchema> {
  const settings = app?.settings ?? {};
  return {
    hasIcon: Boolean(settings.iconUrl) || settings.hasIcon === true,
    apnEnabled: settings.apnEnabled === true,
    gcmProject: typeof settings.gcmProject === "string" ? settings.gcmProject : null,
  };
}
