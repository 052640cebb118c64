// The import checker itself, on small trees written to a temporary directory.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { FILE_CYCLE, MODULE_CYCLE, RULES, UNCLASSIFIED, UNRESOLVED, checkImports, type Binding } from "./imports.ts";

type Files = Record<string, string>;

const scratch = mkdtempSync(join(tmpdir(), "parley-archcheck-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let trees = 0;
/** Writes `files` to a fresh <tmp>/<n>/src and checks it. */
function check(files: Files, bindings?: Binding[]): string[] {
  const src = join(scratch, String(++trees), "src");
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(src, path)), { recursive: true });
    writeFileSync(join(src, path), text);
  }
  return checkImports(src, bindings);
}

/** The name of the rule whose name starts with `prefix`. */
function rule(prefix: string): string {
  const matching = RULES.filter((r) => r.name.startsWith(prefix));
  expect(matching, prefix).toHaveLength(1);
  return matching[0].name;
}

/** Every layer, importing everything it may, in every form of import. */
const clean: Files = {
  "index.ts": [
    `import { app } from "./app";`,
    `import type { Job } from "./webhooks/delivery.ts";`,
    `export { Conversation } from "./conversation";`,
    `export default { fetch: app.fetch } as { fetch: unknown; job?: Job };`,
  ].join("\n"),
  "env.d.ts": `import "./routes/apps/routes"; interface Env {}`, // ignored
  "app.ts": [
    `import { Hono } from "hono";`,
    `import { appsRoutes } from "./routes/apps/routes";`,
    `import type { AppEnv } from "./http/context";`,
    `import { authenticate } from "./auth/credential";`,
    `import { ApiError } from "./errors";`,
    `export const app = new Hono<AppEnv>().route("/", appsRoutes).use(authenticate);`,
  ].join("\n"),
  "routes/apps/routes.ts": [
    `import { Hono } from "hono";`,
    `import { z } from "zod";`,
    `import { appSchema } from "./schemas";`,
    `import { chain } from "../chains";`,
    `import { validate } from "../../http/validate";`,
    `import { createApp } from "../../apps/create";`,
    `import { presentApp } from "../../presenters/app";`,
    `import { getApp } from "../../db/apps";`,
    `import { newId } from "../../lib/ids";`,
    `export const appsRoutes = new Hono();`,
  ].join("\n"),
  "routes/apps/schemas.ts": `import { z } from "zod"; export const appSchema = z.object({});`,
  "routes/chains.ts": `import { validate } from "../http/validate"; export const chain = [validate];`,
  "http/context.ts": `import type { Credential } from "../auth/credential"; export interface AppEnv { c: Credential }`,
  "http/validate.ts": [
    `import { validator } from "hono/validator";`,
    `import type { AppEnv } from "./context";`,
    `import { ApiError } from "../errors";`,
    `import { presentApp } from "../presenters/app";`,
    `export const validate = validator;`,
  ].join("\n"),
  "auth/credential.ts": `import { jwtVerify } from "jose"; import { getApp } from "../db/apps"; export type Credential = {};`,
  "apps/create.ts": [
    `import { z } from "zod";`,
    `import { newId } from "../lib/ids";`,
    `import { config } from "../config";`,
    `import { Role } from "../enums";`,
    `import type { Credential } from "../auth/credential";`,
    `import { presentApp } from "../presenters/app";`,
    `export async function createApp() { const { userDefaults } = await import("../users/defaults"); }`,
  ].join("\n"),
  "users/defaults.ts": `import { conversationStub } from "../conversation/index.ts"; import type { Message } from "../model/message";`,
  "conversation/index.ts": `import { DurableObject } from "cloudflare:workers"; export class Conversation {}`,
  "webhooks/delivery.ts": `import { presentAppUser } from "../presenters/app"; export type Job = {};`,
  "presenters/app.ts": [
    `import { z } from "zod";`,
    `import type { AppRow } from "../db/apps";`,
    `import { ApiError } from "../errors";`,
    `export { presentAppUser } from "./app-user";`,
  ].join("\n"),
  "presenters/app-user.ts": `import { messageSchema } from "../model/message"; export const presentAppUser = () => ({});`,
  "model/message.ts": `import { z } from "zod"; import { Role } from "../enums"; import { toHex } from "../lib/hex"; export const messageSchema = z.object({});`,
  "db/apps.ts": `import { parseJson } from "./json"; import { newId } from "../lib/ids"; export type AppRow = {};`,
  "db/json.ts": `import { ApiError } from "../errors";`,
  "config.ts": `import { z } from "zod"; export const config = {};`,
  "errors.ts": `import { config } from "./config"; export class ApiError {}`,
  "enums.ts": `export enum Role { a }`,
  "lib/ids.ts": `import { toHex } from "./hex"; import { z } from "zod"; export const newId = () => "";`,
  "lib/hex.ts": `export const toHex = () => "";`,
  "cli/dev.ts": `import { spawn } from "node:child_process"; import { vars } from "./dev-vars.ts"; import { config } from "../config.ts";`,
  "cli/dev-vars.ts": `import { readFileSync } from "node:fs"; import { newId } from "../lib/ids.ts";`,
  "browser/messenger/widget.ts": `import { render } from "./render"; import { z } from "zod";`,
  "browser/messenger/render.ts": `export const render = () => {};`,
};

describe("checkImports", () => {
  test("a tree that keeps every rule passes", () => {
    expect(check(clean)).toEqual([]);
  });

  // One import that breaks exactly the named rule, added to the clean tree.
  test.each<[string, string, string, string]>([
    ["rule 1: nothing imports src/index.ts", "routes/orphan.ts", `import "../index";`, "src/index.ts"],
    ["rule 1: only src/index.ts imports src/app.ts", "routes/orphan.ts", `import { app } from "../app";`, "src/app.ts"],
    ["rule 2", "http/openapi.ts", `import { appSchema } from "../routes/apps/schemas";`, "src/routes/apps/schemas.ts"],
    ["rule 2", "index.ts", `import "./routes/apps/routes";`, "src/routes/apps/routes.ts"],
    ["rule 3", "index.ts", `import { validate } from "./http/validate";`, "src/http/validate.ts"],
    ["rule 4", "auth/middleware.ts", `import { createMiddleware } from "hono/factory";`, "hono/factory"],
    ["rule 4", "auth/middleware.ts", `import type { Context } from "hono";`, "hono"],
    ["rule 4", "users/create.ts", `import { spawn } from "../cli/dev.ts";`, "src/cli/dev.ts"],
    ["rule 4", "users/create.ts", `import { Hono } from "hono";`, "hono"],
    ["rule 5", "presenters/user.ts", `import { createApp } from "../apps/create";`, "src/apps/create.ts"],
    ["rule 5", "presenters/user.ts", `import type { Context } from "hono";`, "hono"],
    ["rule 11", "model/message.ts", `import type { AppRow } from "../db/apps";`, "src/db/apps.ts"],
    ["rule 11", "model/message.ts", `import type { Credential } from "../auth/credential";`, "src/auth/credential.ts"],
    ["rule 6", "db/users.ts", `import { presentApp } from "../presenters/app";`, "src/presenters/app.ts"],
    ["rule 6", "db/users.ts", `import { HTTPException } from "hono/http-exception";`, "hono/http-exception"],
    ["rule 10", "lib/canonical.ts", `import { getApp } from "../db/apps";`, "src/db/apps.ts"],
    ["rule 10", "lib/ids.ts", `import { config } from "../config";`, "src/config.ts"],
    ["rule 10", "lib/ids.ts", `import { ApiError } from "../errors";`, "src/errors.ts"],
    ["rule 7", "enums.ts", `import { getApp } from "./db/apps";`, "src/db/apps.ts"],
    ["rule 7", "errors.ts", `import type { ContentfulStatusCode } from "hono/utils/http-status";`, "hono/utils/http-status"],
    ["rule 8: cli/", "cli/app-create.ts", `import { getApp } from "../db/apps.ts";`, "src/db/apps.ts"],
    ["rule 8: browser/", "browser/messenger/api.ts", `import { newId } from "../../lib/ids";`, "src/lib/ids.ts"],
  ])("%s: in %s, %s", (prefix, file, line, target) => {
    const files = { ...clean, [file]: `${clean[file] ?? ""}\n${line}` };
    expect(check(files)).toEqual([`src/${file} -> ${target}: ${rule(prefix)}`]);
  });

  test("a lower layer importing up into routes/ breaks rule 2 and its own rule", () => {
    const files = { ...clean, "db/users.ts": `import { appSchema } from "../routes/apps/schemas";` };
    expect(check(files)).toEqual([
      `src/db/users.ts -> src/routes/apps/schemas.ts: ${rule("rule 2")}`,
      `src/db/users.ts -> src/routes/apps/schemas.ts: ${rule("rule 6")}`,
    ]);
  });

  test("a domain module importing http/ breaks rules 3 and 4", () => {
    const files = { ...clean, "auth/middleware.ts": `import type { AppEnv } from "../http/context";` };
    expect(check(files)).toEqual([
      `src/auth/middleware.ts -> src/http/context.ts: ${rule("rule 3")}`,
      `src/auth/middleware.ts -> src/http/context.ts: ${rule("rule 4")}`,
    ]);
  });

  test("a new domain module is covered without being listed", () => {
    const files = { ...clean, "realtime/socket.ts": `import { upgradeWebSocket } from "hono/cloudflare-workers";` };
    expect(check(files)).toEqual([`src/realtime/socket.ts -> hono/cloudflare-workers: ${rule("rule 4")}`]);
  });

  test("a 3-file cycle is reported as a path", () => {
    const files = {
      ...clean,
      "lib/a.ts": `import { b } from "./b"; export const a = 1;`,
      "lib/b.ts": `export { c } from "./c"; export const b = 1;`,
      "lib/c.ts": `export const c = async () => (await import("./a.ts")).a;`,
    };
    expect(check(files)).toEqual([`src/lib/a.ts -> src/lib/b.ts -> src/lib/c.ts -> src/lib/a.ts: ${FILE_CYCLE}`]);
  });

  test("every import on a cycle shows up in a reported cycle", () => {
    // a <-> b and b <-> c: two cycles in one strongly connected component.
    const files = {
      ...clean,
      "lib/a.ts": `import "./b";`,
      "lib/b.ts": `import "./a"; import "./c";`,
      "lib/c.ts": `import "./b";`,
    };
    expect(check(files)).toEqual([
      `src/lib/a.ts -> src/lib/b.ts -> src/lib/a.ts: ${FILE_CYCLE}`,
      `src/lib/b.ts -> src/lib/c.ts -> src/lib/b.ts: ${FILE_CYCLE}`,
    ]);
  });

  test("a file importing itself is a cycle", () => {
    const files = { ...clean, "lib/self.ts": `import "./self.ts";` };
    expect(check(files)).toEqual([`src/lib/self.ts -> src/lib/self.ts: ${FILE_CYCLE}`]);
  });

  test("a cycle between two domain modules through different files is reported with an import per step", () => {
    const files = {
      ...clean,
      "whispers/merge.ts": `import { stub } from "../media/stub";`,
      "media/stub.ts": `export const stub = 1;`,
      "media/post.ts": `import type { Whisper } from "../whispers/present";`,
      "whispers/present.ts": `export type Whisper = 1;`,
    };
    expect(check(files)).toEqual([
      `src/media/ -> src/whispers/ -> src/media/: ${MODULE_CYCLE}` +
        ` (src/media/post.ts -> src/whispers/present.ts, src/whispers/merge.ts -> src/media/stub.ts)`,
    ]);
  });

  test("a cycle through three domain modules is reported once", () => {
    const files = {
      ...clean,
      "media/x.ts": `import "../push/y";`,
      "push/y.ts": `import "../realtime/z";`,
      "realtime/z.ts": `import "../media/w";`,
      "media/w.ts": ``,
    };
    expect(check(files)).toEqual([
      `src/media/ -> src/push/ -> src/realtime/ -> src/media/: ${MODULE_CYCLE}` +
        ` (src/media/x.ts -> src/push/y.ts, src/push/y.ts -> src/realtime/z.ts, src/realtime/z.ts -> src/media/w.ts)`,
    ]);
  });

  test("a file cycle between domain modules is both a file and a module cycle", () => {
    const files = {
      ...clean,
      "users/a.ts": `import "../conversation/b";`,
      "conversation/b.ts": `import "../users/a";`,
    };
    expect(check(files)).toEqual([
      `src/conversation/b.ts -> src/users/a.ts -> src/conversation/b.ts: ${FILE_CYCLE}`,
      `src/conversation/ -> src/users/ -> src/conversation/: ${MODULE_CYCLE}` +
        ` (src/conversation/b.ts -> src/users/a.ts, src/users/a.ts -> src/conversation/b.ts)`,
    ]);
  });

  test("type-only imports count, for layers and for cycles", () => {
    const files = {
      ...clean,
      "db/users.ts": `import type { AppEnv } from "../http/context";`,
      "lib/a.ts": `import type { B } from "./b"; export type A = 1;`,
      "lib/b.ts": `export type { A as B } from "./a";`,
    };
    expect(check(files)).toEqual([
      `src/db/users.ts -> src/http/context.ts: ${rule("rule 3")}`,
      `src/db/users.ts -> src/http/context.ts: ${rule("rule 6")}`,
      `src/lib/a.ts -> src/lib/b.ts -> src/lib/a.ts: ${FILE_CYCLE}`,
    ]);
  });

  test("type-only import() types and dynamic imports count", () => {
    const files = {
      ...clean,
      "db/users.ts": `export type Env = import("../http/context").AppEnv;`,
      "db/devices.ts": `export const load = () => import("../presenters/app");`,
    };
    expect(check(files)).toEqual([
      `src/db/devices.ts -> src/presenters/app.ts: ${rule("rule 6")}`,
      `src/db/users.ts -> src/http/context.ts: ${rule("rule 3")}`,
      `src/db/users.ts -> src/http/context.ts: ${rule("rule 6")}`,
    ]);
  });

  test("a file directly in src/ outside every layer is reported", () => {
    const files = { ...clean, "context.ts": `export interface AppEnv {}` };
    expect(check(files)).toEqual([`src/context.ts: ${UNCLASSIFIED}`]);
  });

  test("an import that names no file is reported", () => {
    const files = { ...clean, "lib/ids.ts": `import { gone } from "./gone";` };
    expect(check(files)).toEqual([`src/lib/ids.ts -> ./gone: ${UNRESOLVED}`]);
  });

  test("imports in comments and strings are not imports", () => {
    const files = {
      ...clean,
      "db/users.ts": [
        `// import { app } from "../routes/apps/routes";`,
        `/* import "hono"; */`,
        `export const sql = "import x from '../http/context'";`,
      ].join("\n"),
    };
    expect(check(files)).toEqual([]);
  });

  describe("calls through env bindings", () => {
    const bindings: Binding[] = [
      { binding: "CONVERSATIONS", serves: "conversation/index.ts" },
      { binding: "REALTIME", serves: "realtime/client.ts", callbacks: ["conversation/subscription.ts"] },
    ];
    const realtime: Files = {
      "realtime/client.ts": `export class RealtimeClient { deliver() {} }`,
      "realtime/session.ts": `import { subscribe } from "../conversation/subscription"; export const s = subscribe;`,
      "conversation/subscription.ts": `export const subscribe = (env: Env) => env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName("c"));`,
    };

    test("a loop through a binding is a cycle between rooms, like an import loop", () => {
      const files = {
        ...clean,
        ...realtime,
        "conversation/publish.ts": `export const publish = (env: Env) => env.REALTIME.get(env.REALTIME.idFromString("r")).deliver();`,
      };
      expect(check(files, bindings)).toEqual([
        `src/conversation/ -> src/realtime/ -> src/conversation/: ${MODULE_CYCLE}` +
          ` (src/conversation/publish.ts -> src/realtime/client.ts (env.REALTIME), src/realtime/session.ts -> src/conversation/subscription.ts)`,
      ]);
    });

    test("a loop made only of bindings is a cycle", () => {
      const files = {
        ...clean,
        "realtime/client.ts": `export class RealtimeClient {} export const join = (env: Env) => env.CONVERSATIONS.newUniqueId();`,
        "conversation/publish.ts": `export const publish = (env: Env) => env.REALTIME.newUniqueId();`,
      };
      expect(check(files, bindings)).toEqual([
        `src/conversation/ -> src/realtime/ -> src/conversation/: ${MODULE_CYCLE}` +
          ` (src/conversation/publish.ts -> src/realtime/client.ts (env.REALTIME), src/realtime/client.ts -> src/conversation/index.ts (env.CONVERSATIONS))`,
      ]);
    });

    test("a call back from the contract declared for it points from the served room to the caller's", () => {
      const files = {
        ...clean,
        ...realtime,
        "conversation/subscription.ts": `${realtime["conversation/subscription.ts"]} export const at = (env: Env) => env.REALTIME.newUniqueId();`,
      };
      expect(check(files, bindings)).toEqual([]);
    });

    test("the same call from any other file of the room counts", () => {
      const files = { ...clean, ...realtime, "conversation/other.ts": `export const at = (env: Env) => env.REALTIME.newUniqueId();` };
      expect(check(files, bindings)).toHaveLength(1);
    });

    test("calls within one room, and names in comments or strings, are not loops", () => {
      const files = {
        ...clean,
        ...realtime,
        "conversation/index.ts": `export class Conversation { merge(env: Env) { return env.CONVERSATIONS.newUniqueId(); } }`,
        "conversation/notes.ts": `// env.REALTIME.deliver() is called back from subscription.ts\nexport const s = "env.REALTIME";`,
      };
      expect(check(files, bindings)).toEqual([]);
    });
  });
});
