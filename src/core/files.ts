import { constants } from "node:fs";
import { access, open } from "node:fs/promises";

import { badInput } from "./errors.js";

/** Whether a file or folder is there (and reachable). */
export async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Largest input file read whole (a tools file, an eval set): past it the file is refused, not loaded. */
export const MAX_INPUT_FILE_BYTES = 256 * 1024 * 1024;

/**
 * The text of an input file, a UTF-8 byte-order mark dropped. Exit 2 naming the file when it cannot
 * be read, is not a regular file (a FIFO would block the read) or is larger than `maxBytes`.
 */
export async function readTextFile(path: string, what: string, maxBytes = MAX_INPUT_FILE_BYTES): Promise<string> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw badInput(
      `${path}: cannot read the ${what} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw badInput(`${path}: a folder, not the ${what} file`);
    if (!info.isFile()) throw badInput(`${path}: not a regular file; the ${what} must be a file`);
    if (info.size > maxBytes) {
      throw badInput(
        `${path}: ${info.size.toLocaleString("en-US")} bytes, more than the ${what}'s limit of ${maxBytes.toLocaleString("en-US")}`,
        "is it the right file?",
      );
    }
    return stripBom(await handle.readFile("utf8"));
  } finally {
    await handle.close();
  }
}

/** Text without a leading UTF-8 byte-order mark, which editors on Windows write and JSON.parse refuses. */
export const stripBom = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
