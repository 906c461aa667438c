import { join } from "node:path";

import { PACKAGE_ROOT } from "../core/python.js";

let running: string | undefined;

/** Records the script this process was started as (bin/mcp-forge.js, or the bundled dist/cli/index.js). */
export function recordCliEntry(script: string | undefined): void {
  if (script) running = script;
}

/**
 * The script that starts the CLI in a child process (the stub server, for one): `MCP_FORGE_CLI` when
 * set, else the script this process runs as, else the source tree's bin/mcp-forge.js (library use:
 * tests and benches, which build first). A checkout that has only dist/ has no build/ for bin/ to load.
 */
export function cliEntry(): string {
  return process.env.MCP_FORGE_CLI || running || join(PACKAGE_ROOT, "bin", "mcp-forge.js");
}
