// The printed table and the JSON record of one benchmark run.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, arch, release, totalmem, type } from "node:os";
import { dirname } from "node:path";
import type { Figures } from "./load.ts";

export interface ScenarioResult extends Figures {
  id: string;
  name: string;
  ratioToBaseline: number;
}

export function machine() {
  const cores = cpus();
  return {
    os: `${type()} ${release()} ${arch()}`,
    cpuModel: cores[0]?.model ?? "unknown",
    cpuCount: cores.length,
    memoryGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

/** Nearest-rank percentile of unsorted samples. */
export function percentile(samples: number[], p: number): number | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const fmt = (n: number | null | undefined, digits = 0) =>
  n === null || n === undefined || Number.isNaN(n) ? "n/a" : n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** A table row; a figure that does not apply is null (shown as "–"). */
export interface Row {
  id: string;
  name: string;
  rps: number | null;
  p50: number | null;
  p99: number | null;
  errors: number;
  ratioToBaseline: number | null;
}

/** A Markdown table: readable in a terminal and ready for the README. */
export function table(results: Row[]): string {
  const cell = (n: number | null, digits = 0) => (n === null ? "–" : fmt(n, digits));
  const rows = [
    ["#", "scenario", "req/s", "p50 ms", "p99 ms", "errors", "× baseline"],
    ...results.map((r) => [r.id, r.name, cell(r.rps), cell(r.p50), cell(r.p99), fmt(r.errors), cell(r.ratioToBaseline, 2)]),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const line = (row: string[]) =>
    `| ${row.map((cell, column) => (column <= 1 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join(" | ")} |`;
  const rule = `|${widths.map((w, column) => (column <= 1 ? `-${"-".repeat(w)}-` : `-${"-".repeat(w)}:`)).join("|")}|`;
  return [line(rows[0]), rule, ...rows.slice(1).map(line)].join("\n");
}

export function writeJson(path: string, record: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(record, null, 2)}\n`);
}

export { fmt };
