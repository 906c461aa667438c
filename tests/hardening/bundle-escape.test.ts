import { execFileSync } from "node:child_process";
import { appendFile, cp, mkdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { fixtureWorkdir, MEMORY_SERVER } from "../bundle/helpers.js";
import { runCli, tempDir } from "../support/cli.js";

type Verified = { passed: boolean; integrity: { problems: Array<{ file: string; message: string }> } };

/** A bundle that cannot lead outside itself: verify-bundle, agent and serve open only its regular files. */
describe("bundles with links, FIFOs and devices", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let bundle: string;
  let outside: string;
  let n = 0;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    const fx = await fixtureWorkdir(dir);
    bundle = join(dir, "bundle");
    const packed = await runCli(["pack", "--workdir", fx.workdir, "--output", bundle, "--name", "memory-agent"]);
    expect(packed.code, packed.stderr).toBe(0);
    outside = join(dir, "outside");
    await mkdir(outside);
  });
  afterAll(() => cleanup());

  const copy = async () => {
    const to = join(dir, `copy-${n++}`);
    await cp(bundle, to, { recursive: true });
    return to;
  };
  /** verify-bundle within a time limit: a FIFO or /dev/zero must not make it wait. */
  const verify = async (at: string) => {
    const started = Date.now();
    const run = await runCli(["verify-bundle", at, "--json"]);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    return { code: run.code, result: JSON.parse(run.stdout) as Verified };
  };
  const sumLine = (at: string, file: string) => execFileSync("sha256sum", [file], { cwd: at, encoding: "utf8" });

  it("refuses a file linked outside the bundle, even when its checksum matches", async () => {
    const at = await copy();
    await cp(join(at, "tools.json"), join(outside, "tools.json"));
    await rm(join(at, "tools.json"));
    await symlink(join(outside, "tools.json"), join(at, "tools.json"));
    const { code, result } = await verify(at);
    expect(code).toBe(1);
    expect(result.integrity.problems).toContainEqual({
      file: "tools.json",
      message: expect.stringContaining("a symbolic link") as string,
    });
  });

  it("refuses tests/ linked outside the bundle", async () => {
    const at = await copy();
    await rename(join(at, "tests"), join(outside, "tests"));
    await symlink(join(outside, "tests"), join(at, "tests"));
    const { code, result } = await verify(at);
    expect(code).toBe(1);
    expect(result.integrity.problems).toContainEqual({
      file: "tests/validation.json",
      message: expect.stringContaining("leads outside the bundle") as string,
    });
  });

  it("does not hash a SHA256SUMS entry that links to /etc/passwd", async () => {
    const at = await copy();
    await symlink("/etc/passwd", join(at, "passwd"));
    await appendFile(join(at, "SHA256SUMS"), sumLine(at, "passwd"));
    const { code, result } = await verify(at);
    expect(code).toBe(1);
    expect(result.integrity.problems).toContainEqual({
      file: "passwd",
      message: expect.stringMatching(/a symbolic link .*not read/) as string,
    });
  });

  it("refuses model.gguf linked to /dev/zero, and a listed FIFO, without hanging", async () => {
    const at = await copy();
    await rm(join(at, "model.gguf"));
    await symlink("/dev/zero", join(at, "model.gguf"));
    execFileSync("mkfifo", [join(at, "pipe")]);
    await appendFile(join(at, "SHA256SUMS"), `${"0".repeat(64)}  pipe\n`);
    const { code, result } = await verify(at);
    expect(code).toBe(1);
    expect(result.integrity.problems).toContainEqual({
      file: "model.gguf",
      message: expect.stringContaining("a symbolic link") as string,
    });
    expect(result.integrity.problems).toContainEqual({
      file: "pipe",
      message: expect.stringContaining("a FIFO") as string,
    });
  });

  it("reports an unlisted FIFO and a symbolic link loop", async () => {
    const at = await copy();
    execFileSync("mkfifo", [join(at, "extra-pipe")]);
    await symlink("loop-b", join(at, "loop-a"));
    await symlink("loop-a", join(at, "loop-b"));
    const { code, result } = await verify(at);
    expect(code).toBe(1);
    const byFile = Object.fromEntries(result.integrity.problems.map((p) => [p.file, p.message]));
    expect(byFile["extra-pipe"]).toMatch(/not in SHA256SUMS \(not a regular file \(a FIFO\)/);
    expect(byFile["loop-a"]).toMatch(/not in SHA256SUMS \(a symbolic link loop\)/);
    expect(byFile["loop-b"]).toMatch(/a symbolic link loop/);
  });

  it("agent and serve refuse to load a bundle whose files link outside it (exit 2, the file named)", async () => {
    const at = await copy();
    const manifest = await readFile(join(at, "agent.yaml"), "utf8");
    await writeFile(join(outside, "agent.yaml"), manifest);
    await rm(join(at, "agent.yaml"));
    await symlink(join(outside, "agent.yaml"), join(at, "agent.yaml"));
    for (const args of [
      ["serve", "--bundle", at, "--port", "0"],
      [
        "agent",
        "--bundle",
        at,
        "--prompt",
        "hi",
        "--server",
        `node ${MEMORY_SERVER}`,
        "--workdir",
        join(dir, "agent-work"),
      ],
    ]) {
      const run = await runCli(args);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(`${join(at, "agent.yaml")}: a symbolic link`);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
