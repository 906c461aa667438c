import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import * as core from "@actions/core";
import { getOctokit } from "@actions/github";
import { MARKER } from "./markdown.js";

/** The REST client on GITHUB_API_URL (so GHES and the tests' fake work), with the action's token. */
export type GitHub = ReturnType<typeof getOctokit>;

export function github(token: string): GitHub {
  if (!token) throw new Error("the github-token input is empty");
  core.setSecret(token);
  return getOctokit(token);
}

export const statusOf = (error: unknown): number | undefined =>
  typeof error === "object" && error !== null && typeof (error as { status?: unknown }).status === "number" ? (error as { status: number }).status : undefined;

interface Repo {
  owner: string;
  repo: string;
}

/** Updates the pull request's MCP-Forge comment in place, or creates it; returns its URL. */
export async function upsertComment(gh: GitHub, where: Repo & { issue: number }, body: string): Promise<{ url: string; created: boolean }> {
  const comments = await gh.paginate(gh.rest.issues.listComments, { owner: where.owner, repo: where.repo, issue_number: where.issue, per_page: 100 });
  // Anyone can paste the marker; the workflow token's own (bot) comment wins when there are several.
  const marked = comments.filter((c) => (c.body ?? "").startsWith(MARKER));
  const mine = marked.find((c) => c.user?.type === "Bot") ?? marked[0];
  if (mine) {
    const { data } = await gh.rest.issues.updateComment({ owner: where.owner, repo: where.repo, comment_id: mine.id, body });
    return { url: data.html_url, created: false };
  }
  const { data } = await gh.rest.issues.createComment({ owner: where.owner, repo: where.repo, issue_number: where.issue, body });
  return { url: data.html_url, created: true };
}

export interface UploadedAsset {
  name: string;
  url: string;
  replaced: boolean;
}

/** Uploads files as assets of the tag's release (created when missing), replacing same-named ones. */
export async function publishRelease(gh: GitHub, where: Repo & { tag: string }, files: readonly string[]): Promise<{ releaseUrl: string; assets: UploadedAsset[] }> {
  const release = await releaseForTag(gh, where);
  const existing = await gh.paginate(gh.rest.repos.listReleaseAssets, { owner: where.owner, repo: where.repo, release_id: release.id, per_page: 100 });
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
      headers: { "content-type": name.endsWith(".gz") ? "application/gzip" : "text/plain", "content-length": data.length },
    });
    assets.push({ name, url: (asset as { browser_download_url: string }).browser_download_url, replaced: Boolean(old) });
  }
  return { releaseUrl: release.html_url, assets };
}

async function releaseForTag(gh: GitHub, where: Repo & { tag: string }) {
  try {
    return (await gh.rest.repos.getReleaseByTag({ owner: where.owner, repo: where.repo, tag: where.tag })).data;
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
    core.info(`no release for ${where.tag} yet: creating it`);
    return (await gh.rest.repos.createRelease({ owner: where.owner, repo: where.repo, tag_name: where.tag, name: where.tag })).data;
  }
}

/** The newest release's bundle archive, or undefined when the repository has no release with one. */
export async function latestBundle(gh: GitHub, where: Repo): Promise<{ tag: string; archive: Buffer; name: string } | undefined> {
  let release;
  try {
    release = (await gh.rest.repos.getLatestRelease({ owner: where.owner, repo: where.repo })).data;
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
  const asset = release.assets.find((a) => a.name.endsWith(".tar.gz"));
  if (!asset) return undefined;
  const { data } = await gh.rest.repos.getReleaseAsset({ owner: where.owner, repo: where.repo, asset_id: asset.id, headers: { accept: "application/octet-stream" } });
  const archive = Buffer.from(data as unknown as ArrayBuffer);
  const sums = release.assets.find((a) => a.name === "SHA256SUMS");
  if (sums) await checkDigest(gh, where, sums.id, asset.name, archive);
  return { tag: release.tag_name, archive, name: asset.name };
}

async function checkDigest(gh: GitHub, where: Repo, sumsId: number, name: string, archive: Buffer): Promise<void> {
  const { data } = await gh.rest.repos.getReleaseAsset({ owner: where.owner, repo: where.repo, asset_id: sumsId, headers: { accept: "application/octet-stream" } });
  const text = Buffer.from(data as unknown as ArrayBuffer).toString("utf8");
  const line = text.split("\n").find((l) => l.trim().endsWith(` ${name}`) || l.trim().endsWith(`*${name}`));
  const expected = line?.trim().split(/\s+/)[0];
  const actual = createHash("sha256").update(archive).digest("hex");
  if (expected && expected !== actual) throw new Error(`release asset ${name}: sha256 ${actual} does not match SHA256SUMS (${expected})`);
}
