import { spawn } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { CLI, ROOT, runCli, tempDir } from "../support/cli.js";

const TOOLS = join(ROOT, "tests", "fixtures", "data", "tools.json");
const TRAIN = join(ROOT, "tests", "fixtures", "data", "train.jsonl");
const DIES = `node ${join(ROOT, "tests", "fixtures", "servers", "dies-after.mjs")}`;

/** Every file under a folder, recursively, by path relative to it. */
const filesUnder = async (dir: string) => (await readdir(dir, { recursive: true })).map(String);

describe("generate under crashes, interrupts and large sizes; qa reports with hostile ids", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir()));
  afterAll(() => cleanup());

  it("a server that dies mid-generate fails the stage with exit 2 and its last stderr line; --continue-on-server-crash finishes on stubs", async () => {
    const failed = await runCli([
      "generate",
      "--server",
      DIES,
      "--samples",
      "100",
      "--workdir",
      join(dir, "crash"),
      "--no-progress",
      "--no-gate",
    ]);
    expect(failed.code, failed.stderr).toBe(2);
    expect(failed.stderr).toMatch(/server process exited \(code 1\) during a call of lookup_word/);
    expect(failed.stderr).toContain("panic: dictionary index corrupted at entry 6");
    expect(failed.stderr).toContain("--continue-on-server-crash");
    expect(failed.stderr).not.toMatch(/\n\s+at /);
    expect(await readFile(join(dir, "crash", "data", "train.jsonl"), "utf8").catch(() => "absent")).toBe("absent");

    const continued = await runCli([
      "generate",
      "--server",
      DIES,
      "--samples",
      "100",
      "--workdir",
      join(dir, "crash-ok"),
      "--no-progress",
      "--no-gate",
      "--continue-on-server-crash",
    ]);
    expect(continued.code, continued.stderr).toBe(0);
    expect(continued.stderr.match(/warning: the server process exited/g)).toHaveLength(1);
    expect(continued.stderr).toContain("panic: dictionary index corrupted");
    const sources =
      (await readFile(join(dir, "crash-ok", "data", "train.jsonl"), "utf8")).match(/"resultSource":"(server|stub)"/g) ??
      [];
    expect(sources).toContain('"resultSource":"server"');
    expect(sources).toContain('"resultSource":"stub"');
  });

  it("generate --help documents --continue-on-server-crash", async () => {
    expect((await runCli(["generate", "--help"])).stdout).toMatch(
      /--continue-on-server-crash\s+if the server process dies mid-run/,
    );
  });

  it("a samples value over the maximum in mcp-forge.yaml (generate: or run:) exits 2 naming the maximum", async () => {
    const config = join(dir, "mcp-forge.yaml");
    await writeFile(config, "generate:\n  samples: 200000\nrun:\n  samples: 300000\n");
    const generate = await runCli([
      "generate",
      "--tools",
      TOOLS,
      "--config",
      config,
      "--workdir",
      join(dir, "big-g"),
      "--no-progress",
      "--no-gate",
    ]);
    expect(generate.code, generate.stderr).toBe(2);
    expect(generate.stderr).toContain("--samples 200000: expected a whole number from 1 to 100,000");
    const run = await runCli(["run", "--tools", TOOLS, "--config", config, "--workdir", join(dir, "big-r")]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain("--samples 300000: expected a whole number from 1 to 100,000");
  });

  it("SIGINT stops an offline generate of 100,000 samples within a second and a half, leaving no .tmp file", async () => {
    const workdir = join(dir, "sigint");
    const child = spawn(
      process.execPath,
      [CLI, "generate", "--tools", TOOLS, "--samples", "100000", "--workdir", workdir, "--no-progress", "--no-gate"],
      { stdio: "ignore" },
    );
    const exited = new Promise<number | null>((done) => child.once("exit", done));
    await new Promise((r) => setTimeout(r, 3000));
    const signalled = Date.now();
    child.kill("SIGINT");
    const code = await exited;
    expect(Date.now() - signalled).toBeLessThan(1500);
    expect(code).toBe(130);
    expect((await filesUnder(workdir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  }, 20_000);

  it("qc.md and qc.csv carry no escape sequence from a sample id", async () => {
    const lines = (await readFile(TRAIN, "utf8")).split("\n").filter(Boolean).slice(0, 30);
    const planted = { ...JSON.parse(lines[0]!), id: "evil\u001b[31mred\u001b[0m\u0007", messages: [] };
    lines[0] = JSON.stringify(planted);
    const data = join(dir, "esc.jsonl");
    await writeFile(data, `${lines.join("\n")}\n`);
    const workdir = join(dir, "esc");
    const qa = await runCli(["qa", "--data", data, "--tools", TOOLS, "--workdir", workdir]);
    expect(qa.code, qa.stderr).toBe(1);
    const md = await readFile(join(workdir, "reports", "qc.md"), "utf8");
    const csv = await readFile(join(workdir, "reports", "qc.csv"), "utf8");
    expect(csv).toMatch(/^1,evilred,bad_structure,/m);
    expect(md).toContain("| 1 | evilred | bad_structure |");
    // eslint-disable-next-line no-control-regex -- the point is that no control character is there
    for (const text of [md, csv]) expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
  });
});
