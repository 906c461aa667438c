import { readFile } from "node:fs/promises";
import { basename } from "node:path";

import * as core from "@actions/core";
import { getOctokit } from "@actions/github";

import { sha256 } from "../core/canonical.js";

/** The REST client on GITHUB_API_URL (so GHES and the tests' fake work), with the action's token. */
export type GitHub = ReturnType<typeof getOctokit>;

export function github(token: string): GitHub {
  if (!token) throw new Error("the github-token input is empty");
  core.setSecret(token);
  return getOctokit(token);
}

export const statusOf = (error: unknown): number | undefined =>
  typeof error === "object" && error !== null && typeof (error as { status?: unknown }).status === "number"
    ? (error as { status: number }).status
    : undefined;

export interface Repo {
  owner: string;
  repo: string;
}

export interface UploadedAsset {
  name: string;
  url: string;
  replaced: boolean;
}

/** Uploads files as assets of the tag's release (created when missing), replacing same-named ones. */
export async function publishRelease(
  gh: GitHub,
  where: Repo & { tag: string },
  files: readonly string[],
): Promise<{ releaseUrl: string; assets: UploadedAsset[] }> {
  const release = await releaseForTag(gh, where);
  const existing = await gh.paginate(gh.rest.repos.listReleaseAssets, {
    owner: where.owner,
    repo: where.repo,
    release_id: release.id,
    per_page: 100,
  });
  const assets: UploadedAsset[] = [];
  for (const file of files) {
    const name = basename(file);
    const old = existing.find((a) => a.name === name);
    if (old) await gh.rest.repos.deleteReleaseAsset({ owner: where.owner, repo: where.repo, asset_id: old.id });
    const data = await readFile(file);
    const { data: asset } = await gh.request({
      method: "POST",
      url: release.upload_url,
      name,
      data,
      headers: {
        "content-type": name.endsWith(".gz")
          ? "application/gzip"
          : name.endsWith(".json")
            ? "application/json"
            : "text/plain",
        "content-length": data.length,
      },
    });
    assets.push({
      name,
      url: (asset as { browser_download_url: string }).browser_download_url,
      replaced: Boolean(old),
    });
  }
  return { releaseUrl: release.html_url, assets };
}

async function releaseForTag(gh: GitHub, where: Repo & { tag: string }) {
  try {
    return (await gh.rest.repos.getReleaseByTag({ owner: where.owner, repo: where.repo, tag: where.tag })).data;
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
    core.info(`no release for ${where.tag} yet: creating it`);
    return (
      await gh.rest.repos.createRelease({ owner: where.owner, repo: where.repo, tag_name: where.tag, name: where.tag })
    ).data;
  }
}

/**
 * The toolset the newest release was trained on: its `<bundle>.tools.json` asset (kilobytes), or,
 * for releases that have none, the bundle archive (model included) to take tools.json from.
 * Either is checked against the release's SHA256SUMS. Undefined when no release has a bundle.
 */
export async function latestReleasedToolset(
  gh: GitHub,
  where: Repo,
): Promise<{ tag: string; name: string; data: Buffer } | undefined> {
  let release;
  try {
    release = (await gh.rest.repos.getLatestRelease({ owner: where.owner, repo: where.repo })).data;
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
  const asset =
    release.assets.find((a) => a.name.endsWith(TOOLS_SUFFIX)) ?? release.assets.find((a) => a.name.endsWith(".tar.gz"));
  if (!asset) return undefined;
  const data = await download(gh, where, asset.id);
  const sums = release.assets.find((a) => a.name === "SHA256SUMS");
  if (sums) checkDigest((await download(gh, where, sums.id)).toString("utf8"), asset.name, data);
  return { tag: release.tag_name, name: asset.name, data };
}

/** The release asset beside the bundle archive that holds only the bundle's tools.json. */
export const TOOLS_SUFFIX = ".tools.json";
/** The release asset that holds the benchmark.json the release was measured with. */
export const BENCHMARK_SUFFIX = ".benchmark.json";

/**
 * The benchmark.json assets of the newest published releases (newest first, at most `count`, from the
 * first 100), each checked against its release's SHA256SUMS; `except` is left out (this run's own tag).
 * Releases without one (made before the asset existed) are passed over.
 */
export async function releasedBenchmarks(
  gh: GitHub,
  where: Repo,
  count: number,
  except?: string,
): Promise<Array<{ tag: string; text: string }>> {
  const { data: releases } = await gh.rest.repos.listReleases({ owner: where.owner, repo: where.repo, per_page: 100 });
  const found: Array<{ tag: string; text: string }> = [];
  for (const release of releases) {
    if (found.length === count) break;
    const asset = release.assets.find((a) => a.name.endsWith(BENCHMARK_SUFFIX));
    if (release.draft || release.tag_name === except || !asset) continue;
    const data = await download(gh, where, asset.id);
    const sums = release.assets.find((a) => a.name === "SHA256SUMS");
    if (sums) checkDigest((await download(gh, where, sums.id)).toString("utf8"), asset.name, data);
    found.push({ tag: release.tag_name, text: data.toString("utf8") });
  }
  return found;
}

async function download(gh: GitHub, where: Repo, assetId: number): Promise<Buffer> {
  const { data } = await gh.rest.repos.getReleaseAsset({
    owner: where.owner,
    repo: where.repo,
    asset_id: assetId,
    headers: { accept: "application/octet-stream" },
  });
  return Buffer.from(data as unknown as ArrayBuffer);
}

function checkDigest(sums: string, name: string, data: Buffer): void {
  const line = sums.split("\n").find((l) => l.trim().endsWith(` ${name}`) || l.trim().endsWith(`*${name}`));
  const expected = line?.trim().split(/\s+/)[0];
  const actual = sha256(data);
  if (expected && expected !== actual)
    throw new Error(`release asset ${name}: sha256 ${actual} does not match SHA256SUMS (${expected})`);
}
