import type { AppUser } from "../../db/app-users";
import type { Device } from "../../db/devices";
import type { FlatObject } from "../../lib/schemas";
import { escapeForSlack } from "./markup";

const fields = (object: FlatObject) =>
  Object.entries(object)
    .map(([key, value]) => `${escapeForSlack(key)}: ${escapeForSlack(String(value))}`)
    .join(", ");

const displayName = (user: AppUser) => [user.givenName, user.surname].filter(Boolean).join(" ") || user.userId || "Anonymous user";

/**
 * The message that opens a conversation's thread: who the user is (display name, `userId`,
 * `email`), their `properties`, and each device's `platform`, `appVersion` and `info`.
 */
export function parentText(user: AppUser, devices: Device[]): string {
  const lines = [`*${escapeForSlack(displayName(user))}* started a conversation`];
  const who = [`appUserId: ${user.id}`, user.userId && `userId: ${escapeForSlack(user.userId)}`, user.email && `email: ${escapeForSlack(user.email)}`];
  lines.push(who.filter(Boolean).join(" · "));
  if (Object.keys(user.properties).length > 0) lines.push(`Properties: ${fields(user.properties)}`);
  for (const device of devices) {
    const info = Object.keys(device.info).length > 0 ? ` (${fields(device.info)})` : "";
    lines.push(`Device: ${device.platform}${device.appVersion ? ` ${escapeForSlack(device.appVersion)}` : ""}${info}`);
  }
  lines.push("_Answer in this thread; a reply starting with `note:` stays in Slack._");
  return lines.join("\n");
}
