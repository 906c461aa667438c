import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { type CliRun, ROOT, runCli, tempDir } from "../support/cli.js";

const SERVER = `node ${join(ROOT, "tests", "hardening", "fixtures", "leaky-server.mjs")}`;
/** Passed with --env: a secret the user handed over. */
const CANARY = "cAnArY-7Qx2Lm9Vb4Nz8Kw3";
/** In the server's environment only, never named to mcp-forge: caught by their shape. */
const BEARER = "bEaReR0Tok3nXyZ98765qwerty";
const OPENAI = "sk-proj-CaNaRy00112233445566778899aabb";
const URL_PASSWORD = "uRlPa55-Canary-6Hj2";
const SECRETS = [CANARY, BEARER, OPENAI, URL_PASSWORD];

async function everyFile(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** Every command that writes, against a server that prints and returns its secrets: none reaches a file or the terminal. */
describe("secrets never reach a file", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const runs: Array<{ args: string[]; run: CliRun }> = [];
  const env = { LEAKY_B: BEARER, LEAKY_O: OPENAI };

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    const workdir = join(dir, "work");
    const server = ["--server", SERVER, "--env", `MY_API_TOKEN=${CANARY}`];
    for (const args of [
      ["inspect", ...server, "--workdir", workdir],
      ["generate", ...server, "--workdir", workdir, "--samples", "60", "--no-progress"],
      ["qa", "--workdir", workdir],
      ["status", "--workdir", workdir, "--json"],
      [
        "inspect",
        "--url",
        `http://someone:${URL_PASSWORD}@127.0.0.1:9/mcp`,
        "--workdir",
        join(dir, "url-work"),
        "--timeout",
        "5",
      ],
      // run prints a failed stage's error itself
      [
        "run",
        "--url",
        `http://someone:${URL_PASSWORD}@127.0.0.1:9/mcp`,
        "--workdir",
        join(dir, "run-work"),
        "--timeout",
        "5",
        "--to",
        "INSPECTING",
      ],
    ]) {
      runs.push({ args, run: await runCli(args, { env }) });
    }
  }, 240_000);
  afterAll(() => cleanup());

  it("the commands ran, and the server's results did reach the samples (so the check below means something)", async () => {
    const codes = runs.map(({ args, run }) => [args[0], run.code]);
    expect(codes.slice(0, 4)).toEqual([
      ["inspect", 0],
      ["generate", expect.any(Number)],
      ["qa", expect.any(Number)],
      ["status", 0],
    ]);
    const train = await readFile(join(dir, "work", "data", "train.jsonl"), "utf8");
    expect(train).toContain("[redacted]");
    expect(train).toContain("MY_API_TOKEN=");
  });

  it("no file written and no line printed holds a secret", async () => {
    const files = await everyFile(dir);
    expect(files.some((f) => f.endsWith("state.json"))).toBe(true);
    expect(files.some((f) => /logs\/server-.*\.log$/.test(f))).toBe(true);
    for (const file of files) {
      const text = await readFile(file, "utf8");
      for (const secret of SECRETS) expect(text.includes(secret), `${secret} in ${file}`).toBe(false);
    }
    for (const { args, run } of runs) {
      for (const secret of SECRETS)
        expect(`${run.stdout}${run.stderr}`.includes(secret), `${secret} printed by ${args[0]}`).toBe(false);
    }
  });
});
