import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import { Job } from "./runner.js";

const running = (marker: string) =>
  execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.includes(marker) && !l.includes("ps -eo"));

afterAll(() => Job.cleanup());

describe("a cancelled job", () => {
  it("SIGTERM to a stage step reaches the CLI, which stops its server; nothing is left running", async () => {
    const marker = `hang-${randomBytes(4).toString("hex")}`;
    const job = await Job.create({
      event: "pull_request.json",
      eventName: "pull_request",
      ref: "refs/pull/7/merge",
      env: { INPUT_SERVER_COMMAND: `node -e "setInterval(() => {}, 1000)" ${marker}` },
    });
    await writeFile(join(job.dir, "output-started"), "");
    expect((await job.step("setup")).code).toBe(0);
    const step = job.start("inspect");
    let stdout = "";
    step.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    const deadline = Date.now() + 20_000;
    while (running(marker).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(running(marker).length, "the server should be up").toBeGreaterThan(0);
    step.kill("SIGTERM");
    const code = await new Promise<number | null>((resolve) => step.on("close", (c) => resolve(c)));
    expect(code).toBe(130);
    expect(stdout).toContain("MCP-Forge · inspect: exit 130");
    expect(running(marker)).toEqual([]);
  });
});
