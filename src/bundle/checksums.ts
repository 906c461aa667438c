import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir } from "node:fs/promises";
import { join, relative, sep } from "node:path";

import { containmentProblem, openContained, readContained } from "./contained.js";

export const CHECKSUMS_FILE = "SHA256SUMS";

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Every regular file under `dir`, as sorted `/`-separated relative paths. */
export async function listFiles(dir: string): Promise<string[]> {
  return listEntries(dir, (e) => e.isFile());
}

/** Every entry under `dir` but folders (links, FIFOs, devices too); links are not followed. */
async function listEntries(
  dir: string,
  keep: (entry: { isFile(): boolean; isDirectory(): boolean }) => boolean = (e) => !e.isDirectory(),
): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter(keep)
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join("/"))
    .sort();
}

/** The sha256 of a regular file inside the bundle, read without following links. */
async function sha256Contained(dir: string, file: string): Promise<string> {
  const handle = await openContained(dir, file);
  const hash = createHash("sha256");
  try {
    for await (const chunk of handle.createReadStream({ highWaterMark: 1 << 20, autoClose: false }))
      hash.update(chunk as Buffer);
  } finally {
    await handle.close();
  }
  return hash.digest("hex");
}

/**
 * `sha256sum` output for every file in `dir` but SHA256SUMS itself, so `sha256sum -c SHA256SUMS`
 * checks it; `known` holds hashes already computed (the model's), to read big files once.
 */
export async function checksumsText(dir: string, known: ReadonlyMap<string, string> = new Map()): Promise<string> {
  const files = (await listFiles(dir)).filter((f) => f !== CHECKSUMS_FILE);
  const lines = await Promise.all(files.map(async (f) => `${known.get(f) ?? (await sha256File(join(dir, f)))}  ${f}`));
  return `${lines.join("\n")}\n`;
}

export interface ChecksumProblem {
  file: string;
  problem: "mismatch" | "missing" | "unlisted" | "malformed" | "unsafe";
  detail: string;
}

/**
 * Checks a bundle against its SHA256SUMS: each listed file must exist and match, each required
 * file must be listed. Files that are not listed are reported too (the bundle was changed).
 */
export async function verifyChecksums(
  dir: string,
  required: readonly string[],
): Promise<{ checked: number; problems: ChecksumProblem[]; hashes: Map<string, string> }> {
  const path = join(dir, CHECKSUMS_FILE);
  const unsafe = await containmentProblem(dir, CHECKSUMS_FILE);
  if (unsafe) {
    const problem = unsafe === "missing" ? "missing" : "unsafe";
    return {
      checked: 0,
      problems: [
        { file: CHECKSUMS_FILE, problem, detail: unsafe === "missing" ? `${path} is missing` : `${path}: ${unsafe}` },
      ],
      hashes: new Map(),
    };
  }
  const text = await readContained(dir, CHECKSUMS_FILE);
  const problems: ChecksumProblem[] = [];
  const listed = new Map<string, string>();
  const hashes = new Map<string, string>();
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!match || match[2]!.startsWith("/") || match[2]!.split("/").includes("..")) {
      problems.push({
        file: CHECKSUMS_FILE,
        problem: "malformed",
        detail: `${path}:${i + 1}: expected "<sha256 hex>  <relative path>"`,
      });
      return;
    }
    listed.set(match[2]!, match[1]!);
  });
  for (const [file, expected] of listed) {
    const unsafe = await containmentProblem(dir, file);
    if (unsafe) {
      problems.push(
        unsafe === "missing"
          ? { file, problem: "missing", detail: "listed in SHA256SUMS but missing" }
          : { file, problem: "unsafe", detail: `${unsafe}; not read` },
      );
      continue;
    }
    const actual = await sha256Contained(dir, file);
    hashes.set(file, actual);
    if (actual !== expected)
      problems.push({
        file,
        problem: "mismatch",
        detail: `sha256 ${actual} does not match SHA256SUMS (${expected}); the file was changed or corrupted`,
      });
  }
  for (const file of required) {
    if (!listed.has(file)) problems.push({ file, problem: "unlisted", detail: "not listed in SHA256SUMS" });
  }
  for (const file of await listEntries(dir)) {
    if (file !== CHECKSUMS_FILE && !listed.has(file) && !required.includes(file)) {
      const unsafe = await containmentProblem(dir, file);
      problems.push({
        file,
        problem: "unlisted",
        detail: `in the bundle but not in SHA256SUMS${unsafe ? ` (${unsafe})` : ""}`,
      });
    }
  }
  return { checked: listed.size, problems, hashes };
}
