import { copyFile, link, readdir, rename, rm } from "node:fs/promises";

import { badInput } from "../core/errors.js";
import { BUNDLE_FILES } from "./layout.js";

/** A hard link when the bundle is on the model's file system (no copy of gigabytes), else a copy. */
export async function placeModel(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EXDEV" && code !== "EPERM" && code !== "EMLINK" && code !== "ENOTSUP") throw error;
    await copyFile(from, to);
  }
}

/** Renames `staging` to `output`, replacing an earlier bundle there but nothing else. */
export async function replaceFolder(staging: string, output: string): Promise<void> {
  let existing: string[] | undefined;
  try {
    existing = await readdir(output);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      throw badInput(
        `--output ${output}: not a folder (${(error as NodeJS.ErrnoException).code})`,
        "pass a new folder, or an earlier bundle to replace",
      );
    }
  }
  if (existing === undefined) {
    await rename(staging, output);
    return;
  }
  if (existing.length > 0 && !existing.includes(BUNDLE_FILES.manifest)) {
    throw badInput(
      `--output ${output}: the folder is not empty and holds no bundle; refusing to replace it`,
      "pass a new folder, or an earlier bundle to replace",
    );
  }
  const old = `${staging}.old`;
  await rename(output, old);
  try {
    await rename(staging, output);
  } catch (error) {
    await rename(old, output);
    throw error;
  }
  await rm(old, { recursive: true, force: true });
}
