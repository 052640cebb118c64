import { z } from "zod";
import type { AppKey } from "../db/app-keys";
import type { App } from "../db/apps";
import type { Integration } from "../db/integrations";
import { INTEGRATION_TYPES, PUSH_INTEGRATION_TYPES } from "../enums";
import { flatObjectShape, type FlatObject } from "../lib/schemas";
import { withoutNulls } from "./without-nulls";

export const appSchema = z
  .object({ _id: z.string(), name: z.string(), appToken: z.string(), settings: flatObjectShape })
  .meta({ id: "App", description: "An app: its own users, keys, webhooks and whispers." });

export const keySchema = z
  .object({ _id: z.string(), name: z.string(), secret: z.string() })
  .meta({ id: "Key", description: "A secret key of an app; its _id is the `kid` of the JWTs it signs." });

/**
 * The app settings the Smooch web messenger styles itself with, read from the app's flat
 * settings of the same names and shown under `settings.web`, where the messenger reads them.
 */
const webStyleSchema = z.object({
  displayStyle: z.string().optional(),
  accentColor: z.string().optional(),
  brandColor: z.string().optional(),
  linkColor: z.string().optional(),
  buttonIconUrl: z.string().optional(),
});
const WEB_SETTINGS = webStyleSchema.keyof().options;

// The 3.x messenger's init crashes unless channels is an object; Parley links no channels.
const webSettingsSchema = webStyleSchema.extend({ channels: z.record(z.string(), z.unknown()) });

/** A push channel as a device sees it: its type, and for Web Push the key a browser subscribes with. */
const appChannelSchema = z.object({
  _id: z.string(),
  type: z.enum(INTEGRATION_TYPES),
  vapidPublicKey: z.string().optional(),
});

/** What init tells a device about its app. */
export const appMetadataSchema = z
  .object({
    hasIcon: z.boolean(),
    apnEnabled: z.boolean(),
    gcmProject: z.string().nullable(),
    name: z.string().optional(),
    iconUrl: z.string().optional(),
    settings: z.object({ web: webSettingsSchema }),
    // The 3.x messenger's init crashes unless this is an array; it looks in it only for the
    // channels it links (messenger, twilio, ...), never these.
    integrations: z.array(appChannelSchema),
  })
  .meta({
    id: "AppMetadata",
    description:
      "The app as a device sees it at init: its icon and push channels, and what the web messenger styles itself with " +
      "(`name`, `iconUrl` and `settings.web`, from the app's settings of the same names).",
  });

export const presentApp = (app: App): z.output<typeof appSchema> => ({
  _id: app.id,
  name: app.name,
  appToken: app.appToken,
  settings: app.settings,
});

export const presentKey = (key: AppKey): z.output<typeof keySchema> => ({ _id: key.id, name: key.name, secret: key.secret });

const stringSetting = (settings: FlatObject, key: string) =>
  typeof settings[key] === "string" && settings[key] !== "" ? (settings[key] as string) : undefined;

/** The app's icon, its `iconUrl` setting: what devices show for the business. */
export const appIconUrl = (app: App | null) => stringSetting(app?.settings ?? {}, "iconUrl");

const presentAppChannel = (integration: Integration): z.output<typeof appChannelSchema> => ({
  _id: integration.id,
  type: integration.type,
  ...(integration.type === "webpush" ? { vapidPublicKey: integration.public.vapidPublicKey } : {}),
});

/**
 * `apnEnabled` and `gcmProject` tell the native SDKs to register for pushes: true when the app
 * has an apn channel, and the fcm channel's sender ID (else its project ID), or the app's
 * settings of those names for an app without that channel.
 */
export function presentAppMetadata(app: App | null, integrations: Integration[]): z.output<typeof appMetadataSchema> {
  const settings = app?.settings ?? {};
  const fcm = integrations.find((integration) => integration.type === "fcm");
  const web = Object.fromEntries(WEB_SETTINGS.map((key) => [key, stringSetting(settings, key)]));
  return {
    hasIcon: Boolean(settings.iconUrl) || settings.hasIcon === true,
    apnEnabled: integrations.some((integration) => integration.type === "apn") || settings.apnEnabled === true,
    gcmProject: fcm
      ? (fcm.public.senderId ?? fcm.public.projectId)
      : typeof settings.gcmProject === "string"
        ? settings.gcmProject
        : null,
    ...withoutNulls({ name: app?.name, iconUrl: appIconUrl(app) }),
    settings: { web: { channels: {}, ...withoutNulls(web) } },
    // Devices see the push channels only: the business's own channels (Slack, email) are none of theirs.
    integrations: integrations.filter((integration) => PUSH_INTEGRATION_TYPES.includes(integration.type)).map(presentAppChannel),
  };
}
