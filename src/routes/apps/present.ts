import type { App } from "../../db/apps";
import type { AppKey } from "../../db/app-keys";

export const presentApp = (app: App) => ({ _id: app.id, name: app.name, appToken: app.appToken, settings: app.settings });

export const presentKey = (key: AppKey) => ({ _id: key.id, name: key.name, secret: key.secret });
