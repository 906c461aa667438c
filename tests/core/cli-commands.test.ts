import { describe, expect, it } from "vitest";

import { runCli } from "../support/cli.js";

const COMMANDS = [
  "run",
  "doctor",
  "inspect",
  "tools",
  "generate",
  "qa",
  "train",
  "export",
  "status",
  "stub",
  "validate",
  "benchmark",
  "pack",
  "verify-bundle",
  "agent",
  "serve",
];

/** The command names `--help` lists, in order, each with the first words of its description. */
function listed(help: string): Array<{ name: string; description: string }> {
  const section = help.slice(help.indexOf("Commands:"));
  return [...section.matchAll(/^ {2}([a-z-]+)(?: \[options\])?(?: <dir>)? +(\S.*)$/gm)].map((m) => ({
    name: m[1]!,
    description: m[2]!,
  }));
}

describe("the CLI loads a command's module only when it runs, and still lists them all", () => {
  it("--help lists every command, in order, with its description", async () => {
    const { code, stdout } = await runCli(["--help"]);
    expect(code).toBe(0);
    const commands = listed(stdout);
    expect(commands.map((c) => c.name)).toEqual([...COMMANDS, "help"]);
    for (const c of commands) expect(c.description.length, c.name).toBeGreaterThan(10);
  });

  it("a command's own help has its options and examples", async () => {
    const { code, stdout } = await runCli(["validate", "--help"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: mcp-forge validate \[options\]/);
    expect(stdout).toContain("--constrained");
    expect(stdout).toContain("mcp-forge validate --stub");
  });

  it("--version, an unknown command with a suggestion, and a command that runs", async () => {
    expect((await runCli(["--version"])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const unknown = await runCli(["valdate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'valdate'[\s\S]*Did you mean validate\?/);
    const tools = await runCli(["tools", "--help"]);
    expect(tools.stdout).toContain("import");
  });
});

describe("output piped into a reader that stops early", () => {
  it("`mcp-forge run --help | true` (the reader is gone before the first write) ends quietly, without an EPIPE stack trace", async () => {
    const { execa } = await import("execa");
    const result = await execa("bash", ["-c", "set -o pipefail; node bin/mcp-forge.js run --help | true"], {
      reject: false,
    });
    expect(result.stderr).not.toContain("EPIPE");
    expect(result.exitCode).toBe(0);
  });
});
