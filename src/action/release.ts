import * as core from "@actions/core";

import { gateFailed } from "../core/errors.js";
import { bundleArchive } from "./bundle-archive.js";
import { loadConfig, runContext } from "./context.js";
import { github, publishRelease } from "./github.js";
import { token } from "./token.js";

/** On a tag: the bundle archive, its tools.json, the benchmark and SHA256SUMS as assets of the tag's release; a re-run replaces them. */
export async function release(): Promise<void> {
  const config = await loadConfig();
  if (!config.release) {
    core.info("release: off (input release)");
    return;
  }
  const context = await runContext();
  if (!context.tag)
    throw gateFailed("release needs a tag push (GITHUB_REF refs/tags/…)", "set release: auto, or run on a tag");
  const files = await bundleArchive(config, context.tag);
  const uploads = [files.archive, files.tools, ...(files.benchmark ? [files.benchmark] : []), files.sums];
  const { releaseUrl, assets } = await publishRelease(
    github(token()),
    { owner: context.owner, repo: context.repo, tag: context.tag },
    uploads,
  );
  for (const a of assets) core.info(`${a.replaced ? "replaced" : "uploaded"} ${a.name}`);
  core.setOutput("release-url", releaseUrl);
}
