// The profile panel: the app user's fields, their `properties`, and each device's platform,
// appVersion and info (what the contract has app maker channels show beside the user).
import { h } from "../messenger/dom.ts";
import type { AppUser, Device } from "./types.ts";

const FIELDS: Array<[keyof AppUser, string]> = [
  ["givenName", "Given name"],
  ["surname", "Surname"],
  ["email", "Email"],
  ["userId", "User ID"],
  ["_id", "App user ID"],
  ["signedUpAt", "Signed up"],
];

const shown = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));

/** A definition list of the pairs that have a value. */
function pairs(entries: Array<[string, unknown]>): HTMLElement {
  const rows = entries.filter(([, value]) => value !== undefined && value !== null && value !== "");
  if (rows.length === 0) return h("p", { class: "note" }, "None.");
  return h("dl", {}, ...rows.flatMap(([name, value]) => [h("dt", {}, name), h("dd", {}, shown(value))]));
}

export function renderProfile(panel: HTMLElement, user: AppUser, devices: Device[] | undefined) {
  const properties = Object.entries(user.properties ?? {});
  panel.replaceChildren(
    h("h2", { id: "profile-title" }, "Profile"),
    pairs(FIELDS.map(([field, label]) => [label, user[field]])),
    h("h3", {}, "Properties"),
    pairs(properties),
    h("h3", {}, "Devices"),
    devices === undefined || devices.length === 0
      ? h("p", { class: "note" }, devices === undefined ? "Not known." : "None.")
      : h(
          "ul",
          { class: "list" },
          ...devices.map((device) =>
            h("li", { class: "device" }, pairs([["Platform", device.platform], ["App version", device.appVersion], ...Object.entries(device.info ?? {})])),
          ),
        ),
  );
}
