import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { alive, type CliRun, fixture, processesWith, readJson, ROOT, runCli, tempDir } from "./helpers.js";

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

function recordedPids(pidFile: string): Array<{ role: string; pid: number }> {
  if (!existsSync(pidFile)) return [];
  return readFileSync(pidFile, "utf8")
    .trim()
    .split("\n")
    .map((line) => {
      const [role, pid] = line.split(" ");
      return { role: role!, pid: Number(pid) };
    });
}

/** Waits until the fixture servers named in `roles` have all started, then calls `then`. */
function whenStarted(pidFile: string, roles: string[], then: () => void): void {
  const timer = setInterval(() => {
    const started = recordedPids(pidFile).map((p) => p.role);
    if (roles.every((r) => started.includes(r))) {
      clearInterval(timer);
      then();
    }
  }, 20);
}

/**
 * Runs inspect on `server` (a command line; TAG is replaced by a unique marker) and checks that
 * afterwards no process of it is left: neither the pids the fixtures recorded nor anything whose
 * command line carries the marker.
 */
async function runAndCheck(
  server: string,
  options: { env?: Record<string, string>; timeout?: string; roles: string[]; signal?: NodeJS.Signals },
): Promise<CliRun & { workdir: string }> {
  const tag = `orphan-check-${randomUUID()}`;
  const pidFile = join(dir, "pids.txt");
  const workdir = join(dir, "work");
  const env = Object.entries({ PID_FILE: pidFile, ...options.env }).flatMap(([k, v]) => ["--env", `${k}=${v}`]);
  const onStart = options.signal
    ? (child: ChildProcess) => whenStarted(pidFile, options.roles, () => child.kill(options.signal))
    : undefined;
  const run = await runCli(
    [
      "inspect",
      "--workdir",
      workdir,
      "--server",
      server.replaceAll("TAG", `--tag=${tag}`),
      ...env,
      "--timeout",
      options.timeout ?? "30",
    ],
    { onStart, limitMs: 15_000 },
  );
  expect(run.signal).toBeNull();
  const pids = recordedPids(pidFile);
  expect(pids.map((p) => p.role).sort()).toEqual([...options.roles].sort());
  expect(pids.filter((p) => alive(p.pid))).toEqual([]);
  expect(processesWith(tag)).toEqual([]);
  return { ...run, workdir };
}

describe("no orphan processes", () => {
  it("after a successful run through an npx-like wrapper that spawns the server", async () => {
    const run = await runAndCheck(`node ${fixture("spawner.mjs")} node ${fixture("paginated.mjs")} TAG`, {
      roles: ["spawner", "paginated"],
      env: { STAY_ALIVE: "1" },
    });
    expect(run.code).toBe(0);
  });

  it("after a successful run through real npx (npm exec → sh → node)", async () => {
    const run = await runAndCheck(`cd ${ROOT} && npx --no mcp-server-everything stdio TAG`, { roles: [] });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("server: mcp-servers/everything");
  });

  it("after a successful run through sh -c that keeps the shell as parent", async () => {
    const run = await runAndCheck(`sh -c 'node ${fixture("paginated.mjs")} TAG; echo done >&2'`, {
      roles: ["paginated"],
      env: { STAY_ALIVE: "1" },
    });
    expect(run.code).toBe(0);
  });

  it("after a crash during the handshake, behind the wrapper", async () => {
    const run = await runAndCheck(`node ${fixture("spawner.mjs")} node ${fixture("crash.mjs")} TAG`, {
      roles: ["spawner", "crash"],
    });
    expect(run.code).toBe(2);
  });

  it("after a timeout, even when the server ignores SIGTERM", async () => {
    const run = await runAndCheck(`node ${fixture("spawner.mjs")} node ${fixture("hang.mjs")} TAG`, {
      roles: ["spawner", "hang"],
      env: { IGNORE_SIGTERM: "1" },
      timeout: "1",
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("within 1 s");
  });

  it.each(["SIGINT", "SIGTERM"] as const)(
    "after %s: exit 130 and the stage recorded as interrupted",
    async (signal) => {
      const run = await runAndCheck(`node ${fixture("spawner.mjs")} sh -c 'node ${fixture("hang.mjs")} TAG; true'`, {
        roles: ["spawner", "hang"],
        signal,
      });
      expect(run.code).toBe(130);
      expect(run.stderr).toContain(signal === "SIGINT" ? "interrupted" : "terminated");
      const state = await readJson(join(run.workdir, "state.json"));
      expect(state.stages.INSPECTING.status).toBe("interrupted");
    },
  );
});
