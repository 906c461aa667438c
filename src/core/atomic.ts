import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

import { badInput, PATH_ERRORS } from "./errors.js";
import { redactKnownSecrets } from "./redact.js";

/** Temporary files being written: removed when the process exits, however it exits (Ctrl-C included). */
const pending = new Set<string>();
let exitHookInstalled = false;

function track(tmp: string): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", () => {
      for (const path of pending) rmSync(path, { force: true });
    });
  }
  pending.add(tmp);
}

/**
 * Writes a file so that readers see either the old content or the new, never a part. Text never
 * carries a secret the user passed (--env, --header, URL credentials): those are replaced on the way.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await ensureFolder(dirname(path), path);
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  track(tmp);
  try {
    const handle = await open(tmp, "w");
    try {
      await handle.writeFile(typeof data === "string" ? redactKnownSecrets(data) : data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw cannotWrite(path, error);
  } finally {
    pending.delete(tmp);
  }
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Creates `dir` and its missing parents. Walks up to the nearest folder that exists itself: Node's
 * recursive mkdir loops forever under /proc, and a file in the way should be named.
 */
async function ensureFolder(dir: string, file: string): Promise<void> {
  const missing: string[] = [];
  for (let at = dir; ; at = dirname(at)) {
    const info = await stat(at).catch((error: NodeJS.ErrnoException) => error);
    if (info instanceof Error) {
      if (info.code !== "ENOENT" || dirname(at) === at) throw cannotWrite(file, info);
      missing.unshift(at);
      continue;
    }
    if (!info.isDirectory())
      throw badInput(
        `cannot write ${file}: ${at} is a file, not a folder`,
        "pass a path inside a folder (or a new one)",
      );
    break;
  }
  for (const at of missing) {
    await mkdir(at).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw cannotWrite(file, error);
    });
  }
}

/** File-system errors a user can fix by choosing another path are bad input (exit 2), named by path. */
function cannotWrite(path: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  // When writing, a missing path means a folder on the way could not be made.
  const why: Record<string, string> = { ...PATH_ERRORS, ENOENT: "its folder cannot be created there" };
  if (code === undefined || why[code] === undefined) return error;
  return badInput(
    `cannot write ${path}: ${why[code]} (${code})`,
    "pass a writable path (a file in a folder you can write)",
  );
}
