import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { toolsetHash } from "../../src/core/canonical.js";
import { ForgeError } from "../../src/core/errors.js";
import { readToolsFile, type ToolsFile } from "../../src/core/toolset.js";
import { ROOT, runCli, tempDir } from "../support/cli.js";

const MEMORY_TOOLS = join(ROOT, "tests", "fixtures", "data", "tools.json");

describe("readToolsFile and the stored toolsetHash", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let original: ToolsFile;
  let edited: string;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    original = JSON.parse(await readFile(MEMORY_TOOLS, "utf8")) as ToolsFile;
    const changed = structuredClone(original);
    changed.tools[0]!.description = "Create entities, edited by hand";
    edited = join(dir, "tools.json");
    await writeFile(edited, JSON.stringify(changed, null, 2));
  });
  afterAll(() => cleanup());

  it("reads a file whose stored hash matches its tools", async () => {
    const file = await readToolsFile(MEMORY_TOOLS);
    expect(file.toolsetHash).toBe(original.toolsetHash);
    expect(file.toolsetHash).toBe(toolsetHash(file.tools));
  });

  it("refuses a hand-edited file: exit 2, naming the file, the field, both hashes and the fix", async () => {
    const newHash = toolsetHash(JSON.parse(await readFile(edited, "utf8")).tools as unknown[]);
    const error = await readToolsFile(edited).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ForgeError);
    expect((error as ForgeError).exitCode).toBe(2);

    const run = await runCli(["stub", "--tools", edited]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(edited);
    expect(run.stderr).toContain(`/toolsetHash is "${original.toolsetHash}" but its tools hash to ${newHash}`);
    expect(run.stderr).toMatch(
      /hint: re-run `mcp-forge inspect`.*`mcp-forge tools import`.*delete the toolsetHash field/,
    );
  });

  it("computes the hash of a file without the field, so deleting it is the fix for a deliberate edit", async () => {
    const changed = JSON.parse(await readFile(edited, "utf8")) as Partial<ToolsFile>;
    delete changed.toolsetHash;
    const unhashed = join(dir, "unhashed.json");
    await writeFile(unhashed, JSON.stringify(changed));
    const file = await readToolsFile(unhashed);
    expect(file.toolsetHash).toBe(toolsetHash(changed.tools!));
    expect(file.toolsetHash).not.toBe(original.toolsetHash);
  });
});
