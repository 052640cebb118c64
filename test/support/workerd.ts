// Node-only: what the workerd processes of a `wrangler dev` started by dev-server.ts use, from /proc.
import { readdirSync, readFileSync } from "node:fs";

/** Resident memory (bytes) of every workerd process in the group, from /proc. */
export function workerdRss(groupPid: number): { pids: number[]; bytes: number; byPid: Map<number, number> } {
  const pids: number[] = [];
  const byPid = new Map<number, number>();
  let bytes = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      // After the command: state, ppid, pgrp.
      const pgrp = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
      if (pgrp !== groupPid || !comm.startsWith("workerd")) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${entry}/status`, "utf8"));
      if (!rss) continue;
      pids.push(Number(entry));
      byPid.set(Number(entry), Number(rss[1]) * 1024);
      bytes += Number(rss[1]) * 1024;
    } catch {
      // The process exited while we looked.
    }
  }
  return { pids, bytes, byPid };
}

/** The workerd that runs the worker (it has the inspector), as opposed to wrangler's proxy in front of it. */
export function isWorkerRuntime(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("--inspector-addr");
  } catch {
    return false;
  }
}
