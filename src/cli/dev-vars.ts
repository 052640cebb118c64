import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

export const DEV_VARS = ".dev.vars";

export function readDevVars(path = DEV_VARS): Record<string, string> {
  if (!existsSync(path)) return {};
  const vars: Record<string, string> = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"?(.*?)"?\s*$/.exec(line);
    if (match) vars[match[1]] = match[2];
  }
  return vars;
}

/** Creates .dev.vars with random account credentials unless it exists; returns its values. */
export function ensureDevVars(path = DEV_VARS): { vars: Record<string, string>; created: boolean } {
  if (existsSync(path)) return { vars: readDevVars(path), created: false };
  const vars = {
    ACCOUNT_KEY_ID: `act_${randomBytes(12).toString("hex")}`,
    ACCOUNT_SECRET: randomBytes(32).toString("base64url"),
  };
  const text = Object.entries(vars).map(([k, v]) => `${k}=${v}`).join("\n");
  writeFileSync(path, `# Local account credentials, made by npm run dev. Not committed.\n${text}\n`, { mode: 0o600 });
  return { vars, created: true };
}
