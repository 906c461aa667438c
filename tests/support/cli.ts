import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: every test finds fixtures, bin/ and dist/ from here. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The CLI as a user runs it: `node bin/mcp-forge.js` (it loads build/, so run `npm run build` first). */
export const CLI = join(ROOT, "bin", "mcp-forge.js");
export const TOOL_FIXTURES = join(ROOT, "tests", "fixtures", "tools");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would: `node bin/mcp-forge.js …` (run `npm run build` first). */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliRun> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, maxBuffer: 16 * 2 ** 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "mcp-forge-test-"));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
