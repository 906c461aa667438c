import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

import { ROOT } from "./cli.js";

/** What `npm run bundle` reads: the sources, the CLI's entry and the package files. */
const BUNDLE_INPUTS = ["src", "bin", "package.json", "package-lock.json"];
/** What tests/action run: the committed bundle, as `uses:` checks it out. */
const BUNDLE_OUTPUTS = [join("dist", "action", "index.js"), join("dist", "cli", "index.js")];

/** A file's modification time, or `missing` when it does not exist. */
function mtime(path: string, missing: number): number {
  try {
    return statSync(join(ROOT, path)).mtimeMs;
  } catch {
    return missing;
  }
}

/**
 * Why dist/ is older than the sources it is built from, or null when it is not: the bundle inputs
 * changed in the working tree (modified, deleted or untracked per git) after dist/ was written.
 * Committed sources are not checked here (a fresh clone writes files in any order): check-dist in CI
 * fails when committed dist/ differs from what they build. Without git nothing is stale.
 */
export function staleDist(): string | null {
  let changed: string[];
  try {
    changed = execFileSync("git", ["ls-files", "-m", "-o", "--exclude-standard", "--", ...BUNDLE_INPUTS], {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    })
      .split("\n")
      .filter(Boolean);
  } catch {
    return null;
  }
  // A missing bundle was built never; a deleted input changed now.
  const built = Math.min(...BUNDLE_OUTPUTS.map((p) => mtime(p, -Infinity)));
  const newer = changed.filter((file) => mtime(file, Infinity) > built);
  return newer.length > 0
    ? `${newer[0]}${newer.length > 1 ? ` and ${newer.length - 1} more` : ""} changed after dist/ was built`
    : null;
}

/**
 * Whether a vitest run with these file filters (vitest matches each as a substring of a test file's
 * path; none means every file) includes a test file under tests/action.
 */
export function runsActionTests(filters: readonly string[] | undefined): boolean {
  if (!filters || filters.length === 0) return true;
  const files = readdirSync(join(ROOT, "tests", "action")).map((name) => join(ROOT, "tests", "action", name));
  return filters
    .map((filter) => filter.replace(/^\.\//, ""))
    .some((filter) => files.some((file) => file.includes(filter) || relative(process.cwd(), file).includes(filter)));
}

/**
 * tests/action run dist/ (the committed bundle), not build/: after an edit under src/ they would test
 * the old bundle. Rebuilds it with `npm run bundle` (a minute or two) when the run includes them and
 * dist/ is stale; a run on a clean checkout costs nothing.
 */
export function ensureFreshDist(filters: readonly string[] | undefined, log: (line: string) => void): void {
  if (!runsActionTests(filters)) return;
  const reason = staleDist();
  if (!reason) return;
  log(`dist/ is stale (${reason}): npm run bundle\n`);
  execFileSync("npm", ["run", "bundle"], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
}
