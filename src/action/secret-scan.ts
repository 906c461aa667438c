import { open, readdir } from "node:fs/promises";
import { join } from "node:path";

import { gateFailed } from "../core/errors.js";

/**
 * A bundle is published as is (its SHA256SUMS forbid redacting it), so one that holds a secret of this
 * run (say a token in the server URL that tools.json recorded) is not uploaded at all. Large files are
 * checked in their first 16 MiB, where a GGUF keeps its metadata.
 */
export async function refuseSecrets(dir: string, secrets: readonly string[]): Promise<void> {
  if (secrets.length === 0) return;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const handle = await open(path, "r");
    try {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(16 * 1024 * 1024), 0, 16 * 1024 * 1024, 0);
      const head = buffer.subarray(0, bytesRead);
      if (secrets.some((secret) => head.includes(secret))) {
        throw gateFailed(
          `${path} holds a secret of this run (from server-url or the token); the bundle is not uploaded`,
          "pass credentials in headers or the environment, not in the URL, so tools.json does not record them",
        );
      }
    } finally {
      await handle.close();
    }
  }
}
