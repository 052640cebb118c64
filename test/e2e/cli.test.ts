// The CLIs a newcomer runs first: app:create and app:jwt against the suite's `wrangler dev`, and
// the banner npm run dev ends with.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { devBanner, devOrigin } from "../../src/cli/dev-banner.ts";
import { freePorts, signalGroup } from "../support/dev-server.ts";
import { ROOT } from "../support/config-copy.ts";
import { baseUrl } from "./client.ts";

const account = { ACCOUNT_KEY_ID: inject("accountKeyId"), ACCOUNT_SECRET: inject("accountSecret") };

/** Runs a CLI of src/cli/ as npm runs it, with the suite's account credentials. */
function cli(file: string, args: string[]) {
  const run = spawnSync(process.execPath, [join(ROOT, "src/cli", file), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 15_000,
    env: { ...process.env, ...account },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

async function postAsBusiness(appToken: string, appJwt: string, text: string) {
  const headers = { "content-type": "application/json" };
  const userId = `cli-${Date.now()}@example.com`;
  await fetch(`${baseUrl}/v1/init`, { method: "POST", headers: { ...headers, "app-token": appToken }, body: JSON.stringify({ device: { id: userId, platform: "web" }, userId }) });
  return fetch(`${baseUrl}/v1/appusers/${encodeURIComponent(userId)}/conversation/messages`, {
    method: "POST",
    headers: { ...headers, authorization: `Bearer ${appJwt}` },
    body: JSON.stringify({ text, role: "appMaker" }),
  });
}

describe("app:create and app:jwt", () => {
  it("app:create prints the app, its key and an app-scope JWT that answers as the business; app:jwt mints another", async () => {
    const created = cli("app-create.ts", ["--name", "CLI app", "--url", baseUrl]);
    expect(created.status, created.stderr).toBe(0);
    const app = JSON.parse(created.stdout);
    expect(Object.keys(app)).toEqual(["appId", "appToken", "keyId", "secret", "appJwt"]);
    expect((await postAsBusiness(app.appToken, app.appJwt, "From app:create's JWT")).status).toBe(201);

    const minted = cli("app-jwt.ts", ["--app", app.appId, "--key", app.keyId, "--url", baseUrl]);
    expect(minted.status, minted.stderr).toBe(0);
    const jwt = minted.stdout.trim();
    expect(jwt).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect((await postAsBusiness(app.appToken, jwt, "From app:jwt's JWT")).status).toBe(201);
  });

  it.each(["app-create.ts", "app-jwt.ts"])("%s --help prints its usage and exits 0", (file) => {
    const run = cli(file, ["--help"]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^usage: npm run app:(create|jwt) -- /);
    expect(run.stdout).toContain("--url URL");
  });

  it.each([
    ["app-create.ts", ["--name", "x"]],
    ["app-jwt.ts", ["--app", "a", "--key", "k"]],
  ])("%s says in one line, with no stack, that the server at the URL it tried cannot be reached", async (file, args) => {
    const [port] = await freePorts(1);
    const url = `http://127.0.0.1:${port}`;
    const run = cli(file, [...args, "--url", url]);
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toContain(url);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it("an unknown option or a missing one is a usage error, exit 2 or 1, without a stack", () => {
    const unknown = cli("app-jwt.ts", ["--nope"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown option '--nope'\nusage: npm run app:jwt/);
    const missing = cli("app-jwt.ts", ["--app", "a"]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^--app and --key are required/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("npm run dev's banner", () => {
  const vars = { ACCOUNT_KEY_ID: "act_0123", ACCOUNT_SECRET: "s3cret" };

  it("names the credentials, the API, the reference, the demo and the Desk, and ends with the next command, in under 30 lines", () => {
    const lines = devBanner({ origin: "http://127.0.0.1:8787", vars, created: true });
    expect(lines.length).toBeLessThan(30);
    const text = lines.join("\n");
    for (const wanted of ["ACCOUNT_KEY_ID=act_0123", "ACCOUNT_SECRET=s3cret", "http://127.0.0.1:8787/v1", "http://127.0.0.1:8787/docs", "http://127.0.0.1:8787/demo", "http://127.0.0.1:8787/desk"]) {
      expect(text).toContain(wanted);
    }
    expect(lines.filter((line) => line.trim()).at(-1)).toMatch(/npm run app:jwt/);
    expect(text).toContain("npm run app:create -- --name 'My app'\n");
  });

  it("says the Desk is off when the server is reachable beyond this machine", () => {
    const text = devBanner({ origin: "http://0.0.0.0:8787", vars, created: false, demoSecret: "lan-secret" }).join("\n");
    expect(text).toContain("/demo?secret=lan-secret");
    expect(text).not.toContain("/desk");
    expect(text).toMatch(/Desk +off: .*Cloudflare Access/);
  });

  it("suggests commands with --url when the server is not on the default port", () => {
    const origin = devOrigin(["--port", "8790"]);
    expect(origin).toBe("http://127.0.0.1:8790");
    const text = devBanner({ origin, vars, created: false }).join("\n");
    expect(text).toContain("npm run app:create -- --name 'My app' --url http://127.0.0.1:8790");
    expect(text).toContain("npm run app:jwt -- --app APP_ID --key KEY_ID --url http://127.0.0.1:8790");
    expect(devOrigin(["--ip", "::1", "--port=9000"])).toBe("http://[::1]:9000");
  });
});

describe("npm run dev", () => {
  // Runs the real thing (migrations on this checkout's local state, .dev.vars made if missing, as
  // npm run dev does) on a port of its own, with its state in a scratch directory.
  it("prints under 30 lines in all until it is ready, and the banner with the next command last", { timeout: 90_000 }, async () => {
    const [port, inspector] = await freePorts(2);
    const state = mkdtempSync(join(tmpdir(), "parley-npm-run-dev-"));
    const child = spawn(
      process.execPath,
      ["src/cli/dev.ts", "--port", String(port), "--inspector-port", String(inspector), "--persist-to", state, "--show-interactive-dev-session=false"],
      { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    for (const stream of [child.stdout, child.stderr]) stream.on("data", (chunk: Buffer) => (output += chunk));
    try {
      const deadline = Date.now() + 80_000;
      while (!/npm run app:jwt .*\n\n$/.test(output) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      const lines = output.trimEnd().split("\n");
      expect(lines.length, output).toBeLessThan(30);
      expect(output).toContain(`API reference   http://127.0.0.1:${port}/docs`);
      expect(output).toMatch(/ACCOUNT_KEY_ID=\S+/);
      expect(lines.at(-1)).toContain(`npm run app:jwt -- --app APP_ID --key KEY_ID --url http://127.0.0.1:${port}`);
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    } finally {
      signalGroup(child.pid!, "SIGINT");
      const lingering = setTimeout(() => signalGroup(child.pid!, "SIGKILL"), 10_000);
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once("exit", resolve)));
      clearTimeout(lingering);
      rmSync(state, { recursive: true, force: true });
    }
  });
});
