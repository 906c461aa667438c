import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** Every process below `pid` (children, grandchildren, …), from one `ps` snapshot. */
export async function descendantsOf(pid: number): Promise<number[]> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync("ps", ["-A", "-o", "pid=,ppid="]));
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const line of stdout.split("\n")) {
    const [child, parent] = line.trim().split(/\s+/).map(Number);
    if (!child || parent === undefined || Number.isNaN(parent)) continue;
    children.set(parent, [...(children.get(parent) ?? []), child]);
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** True while the process exists and is not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    // The state is the field after the parenthesised command name, which may itself hold spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/** Signals a process group (its leader's pid) and the given pids; never throws. */
export function signalTree(groupLeader: number, pids: readonly number[], sig: NodeJS.Signals): void {
  signal(-groupLeader, sig);
  for (const pid of pids) signal(pid, sig);
}

async function waitForExit(pids: readonly number[], ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (pids.every((pid) => !isAlive(pid))) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Ends a process started in its own process group, and everything it started: SIGTERM to the
 * group and to each descendant (some leave the group with setsid), then SIGKILL after `graceMs`.
 * `known` adds pids seen earlier, since children of a leader that already exited lose their parent link.
 */
export async function killTree(
  groupLeader: number,
  options: { graceMs?: number; known?: readonly number[] } = {},
): Promise<void> {
  const pids = [...new Set([groupLeader, ...(options.known ?? []), ...(await descendantsOf(groupLeader))])];
  signalTree(groupLeader, pids, "SIGTERM");
  if (await waitForExit(pids, options.graceMs ?? 2000)) return;
  signalTree(groupLeader, pids, "SIGKILL");
  await waitForExit(pids, 1000);
}
