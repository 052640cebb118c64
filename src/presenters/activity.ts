import type { App } from "../db/apps";
import type { ActivityType } from "../enums";
import { appIconUrl } from "./app";
import { withoutNulls } from "./without-nulls";

/** What the 3.x web messenger reads on a conversation's activity channel, `/v1/conversations/<_id>/activity`. */
export interface ConversationActivity {
  activity: ActivityType;
  role: "appMaker";
  data: { name?: string; avatarUrl?: string };
}

/** The business typing, shown with the given name and avatar, else the app's name and icon. */
export const presentActivity = (
  app: App | null,
  type: ActivityType,
  shownAs: { name?: string; avatarUrl?: string },
): ConversationActivity => ({
  activity: type,
  role: "appMaker",
  data: withoutNulls({ name: shownAs.name ?? app?.name, avatarUrl: shownAs.avatarUrl ?? appIconUrl(app) }),
});
