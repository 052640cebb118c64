// Starts `wrangler dev` on local state for the end-to-end, benchmark and fault suites, and stops it.
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { offlineEnv, wrangler } from "../../src/cli/wrangler.ts";

const STARTUP_MS = 45_000;
const SHUTDOWN_MS = 10_000;
// CI=true answers wrangler's prompts; the rest keeps it off the network (see toolchain notes).
// X_LOCAL_OBSERVABILITY=false: wrangler's local trace recorder (on by default) writes every span
// of every request to a SQLite store beside the state, tens of MB in a minute of load, and costs a
// request more the more calls it makes: the suites measure and exercise the worker, not it.
const env = { ...offlineEnv, CI: "true", X_LOCAL_OBSERVABILITY: "false" };

/** Ports the OS hands out now; held open together so that they differ. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  const ports = await Promise.all(
    servers.map(
      (server) =>
        new Promise<number>((resolve, reject) => {
          server.on("error", reject);
          server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
        }),
    ),
  );
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** Keeps the tail of a child's output, shown only when something goes wrong. */
function capture(child: ChildProcess) {
  let text = "";
  const keep = (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-8_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return () => text;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

async function run(args: string[]) {
  const child = wrangler(args, { env, stdio: ["ignore", "pipe", "pipe"] });
  const output = capture(child);
  const code = await exited(child);
  if (code !== 0) throw new Error(`wrangler ${args.join(" ")} exited ${code}:\n${output()}`);
}

const groupAlive = (pid: number) => {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
};

export const signalGroup = (pid: number, signal: NodeJS.Signals) => {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
};

async function waitUntilAnswering(baseUrl: string, child: ChildProcess, output: () => string) {
  const deadline = Date.now() + STARTUP_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`wrangler dev exited (${child.exitCode ?? child.signalCode}) before answering:\n${output()}`);
    }
    try {
      // Any HTTP answer means the worker is up.
      await fetch(`${baseUrl}/`, { signal: AbortSignal.timeout(2_000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`wrangler dev did not answer within ${STARTUP_MS / 1000} s:\n${output()}`);
}

export interface DevServerOptions {
  /** Local state directory; a fresh temporary one (removed on stop) when not given. */
  persistTo?: string;
  /** Extra `--var NAME:VALUE` pairs (account credentials are always set). */
  vars?: Record<string, string>;
  /** wrangler's log level; "warn" keeps request logging off. */
  logLevel?: string;
  /** Another wrangler config, e.g. one with other rate limits. */
  config?: string;
  /** Reuse these credentials (a restart on the same state). */
  account?: { keyId: string; secret: string };
  port?: number;
}

export interface DevServer {
  baseUrl: string;
  port: number;
  persistTo: string;
  account: { keyId: string; secret: string };
  /** The process group id: SIGKILL it to simulate a crash. */
  pid: number;
  output: () => string;
  /** SIGINT to the whole group, SIGKILL if it lingers; removes the state it created. */
  stop: () => Promise<void>;
}

/**
 * Applies the migrations to the state, then starts `wrangler dev` in its own process group
 * (so one signal reaches wrangler and both workerd processes) and waits until it answers.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const dir = mkdtempSync(join(tmpdir(), "parley-dev-"));
  const persistTo = options.persistTo ?? join(dir, "state");
  // An explicit, empty env file stops wrangler reading the developer's .dev.vars or .env.
  const envFile = join(dir, "empty.env");
  writeFileSync(envFile, "");
  const account = options.account ?? {
    keyId: `act_${randomBytes(12).toString("hex")}`,
    secret: randomBytes(32).toString("hex"),
  };
  const config = options.config ? ["--config", options.config] : [];
  const vars = { ...options.vars, ACCOUNT_KEY_ID: account.keyId, ACCOUNT_SECRET: account.secret };

  let child: ChildProcess | undefined;
  // Last resort when the run exits without stopping us (interrupted with Ctrl-C): the detached
  // group does not get the terminal's SIGINT, so it would outlive the run.
  const killOnExit = () => {
    if (child?.pid !== undefined) signalGroup(child.pid, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", killOnExit);
  const stop = async () => {
    if (child?.pid !== undefined) {
      const pid = child.pid;
      signalGroup(pid, "SIGINT");
      const deadline = Date.now() + SHUTDOWN_MS;
      while (groupAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      if (groupAlive(pid)) signalGroup(pid, "SIGKILL");
      await exited(child);
    }
    process.removeListener("exit", killOnExit);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await run(["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo, ...config]);
    const [port, inspectorPort] = options.port ? [options.port, ...(await freePorts(1))] : await freePorts(2);
    child = wrangler(
      [
        "dev",
        ...config,
        "--ip", "127.0.0.1",
        "--port", String(port),
        "--inspector-port", String(inspectorPort),
        "--persist-to", persistTo,
        "--show-interactive-dev-session=false",
        "--log-level", options.logLevel ?? "warn",
        "--env-file", envFile,
        ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
      ],
      { env, detached: true, stdio: ["ignore", "pipe", "pipe"] },
    );
    const output = capture(child);
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitUntilAnswering(baseUrl, child, output);
    return { baseUrl, port, persistTo, account, pid: child.pid!, output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
