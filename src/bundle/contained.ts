import { constants } from "node:fs";
import { type FileHandle, lstat, open, realpath } from "node:fs/promises";
import { isAbsolute, join, relative, sep } from "node:path";

/**
 * A bundle is a folder of regular files. A bundle someone else made may hold a link out of it
 * (`passwd -> /etc/passwd`), a link loop, a FIFO that blocks any reader, or a device that never
 * ends (`model.gguf -> /dev/zero`): such entries are refused, never opened.
 */
export class NotContained extends Error {}

/** Why `rel` in `dir` is not a regular file inside the bundle, or undefined when it is. */
export async function containmentProblem(dir: string, rel: string): Promise<string | undefined> {
  if (isAbsolute(rel) || rel.split(/[\\/]/).includes("..")) return "the path leads outside the bundle";
  const path = join(dir, rel);
  const info = await lstat(path).catch((error: NodeJS.ErrnoException) => error);
  if (info instanceof Error)
    return info.code === "ENOENT" ? "missing" : `cannot be read (${info.code ?? info.message})`;
  if (info.isSymbolicLink()) {
    const target = await realpath(path).catch((error: NodeJS.ErrnoException) => error);
    if (target instanceof Error)
      return target.code === "ELOOP" ? "a symbolic link loop" : `a symbolic link to nothing (${target.code ?? ""})`;
    return `a symbolic link (to ${target}); a bundle holds regular files only`;
  }
  if (!info.isFile()) return `not a regular file (${kindOf(info)}); a bundle holds regular files only`;
  const [root, real] = await Promise.all([realpath(dir), realpath(path)]);
  const inside = relative(root, real);
  if (inside === "" || inside.startsWith(`..${sep}`) || inside === ".." || isAbsolute(inside)) {
    return `leads outside the bundle (to ${real}) through a linked folder`;
  }
  return undefined;
}

/**
 * Opens `rel` in `dir` for reading, only when it is a regular file inside the bundle: no symbolic
 * link followed (O_NOFOLLOW, and a linked folder caught by realpath), no wait on a FIFO (O_NONBLOCK).
 * Throws {@link NotContained} with the reason otherwise.
 */
export async function openContained(dir: string, rel: string): Promise<FileHandle> {
  const problem = await containmentProblem(dir, rel);
  if (problem) throw new NotContained(problem);
  const handle = await open(join(dir, rel), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  // Checked again on what was opened: the entry may have been swapped since the lstat.
  if (!(await handle.stat()).isFile()) {
    await handle.close();
    throw new NotContained("not a regular file");
  }
  return handle;
}

/** The text of a regular file inside the bundle (see {@link openContained}). */
export async function readContained(dir: string, rel: string): Promise<string> {
  const handle = await openContained(dir, rel);
  try {
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}

function kindOf(info: {
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSocket(): boolean;
  isDirectory(): boolean;
}): string {
  if (info.isFIFO()) return "a FIFO";
  if (info.isCharacterDevice() || info.isBlockDevice()) return "a device";
  if (info.isSocket()) return "a socket";
  if (info.isDirectory()) return "a folder";
  return "a special file";
}
