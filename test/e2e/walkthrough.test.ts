// The README's walk-through, run as a reader runs it: its `sh` blocks, taken from the README
// itself, in bash against the suite's `wrangler dev`. Only the server's address differs (the
// walk-through's first line sets it), and curl reports each status, so any non-2xx fails the run.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, inject, it } from "vitest";
import { ROOT } from "../support/config-copy.ts";
import { baseUrl } from "./client.ts";

const README = readFileSync(join(ROOT, "README.md"), "utf8");
const SECTION = "## A walk-through with curl";
const ADDRESS = "PARLEY=http://127.0.0.1:8787";

/** The `sh` blocks of the walk-through section, in order. */
function walkthrough(): string[] {
  const start = README.indexOf(SECTION);
  const end = README.indexOf("\n## ", start + SECTION.length);
  return [...README.slice(start, end).matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map(([, block]) => block);
}

// Each curl fails on a 4xx or 5xx, ends its body with a newline, and reports its status on stderr;
// npm runs the project's scripts while the walk-through's files land in a scratch directory.
const PRELUDE = `set -euo pipefail
curl() { command curl --fail-with-body -w '\\n%{stderr}status %{http_code}\\n' "$@"; }
npm() { command npm --prefix "$ROOT" "$@"; }
`;

it("the README's walk-through runs as written, every request answered 2xx, and ends with the business's reply delivered by webhook", () => {
  const blocks = walkthrough();
  expect(blocks.length).toBeGreaterThanOrEqual(2);
  const script = blocks.join("\n");
  expect(script).toContain(ADDRESS);
  const dir = mkdtempSync(join(tmpdir(), "parley-walkthrough-"));
  try {
    const run = spawnSync("bash", ["-c", PRELUDE + script.replace(ADDRESS, `PARLEY=${baseUrl}`)], {
      cwd: dir,
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, ROOT, ACCOUNT_KEY_ID: inject("accountKeyId"), ACCOUNT_SECRET: inject("accountSecret") },
    });
    const report = `exit ${run.status}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
    expect(run.status, report).toBe(0);

    const statuses = [...run.stderr.matchAll(/^status (\d{3})$/gm)].map(([, status]) => Number(status));
    expect(statuses.length, report).toBe(script.match(/^(RECEIVED=\$\()?curl /gm)!.length);
    expect(statuses.filter((status) => status < 200 || status > 299), report).toEqual([]);

    const answers = run.stdout.split("\n").flatMap((line) => {
      try {
        return [JSON.parse(line)];
      } catch {
        return [];
      }
    });
    // The paging step shows the message before the one just captured, and only it.
    const page = answers.find((answer) => Array.isArray(answer?.messages) && !answer.conversation?.messages);
    expect(page?.messages.map((m: { text: string }) => m.text), report).toEqual(["Hello!"]);
    // The receiver printed the business's reply as delivered.
    const delivery = /^webhook: (\S+) (.*)$/m.exec(run.stdout);
    expect(delivery, report).not.toBeNull();
    const event = JSON.parse(delivery![2]);
    expect(event.trigger).toBe("message:appMaker");
    expect(event.messages[0]).toMatchObject({ role: "appMaker", text: "Hi Bob, how can we help?" });
    expect(readFileSync(join(dir, ".parley-app.json"), "utf8")).toContain('"appJwt"');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
