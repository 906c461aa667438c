import * as core from "@actions/core";

import { type GitHub, type Repo, statusOf } from "./github.js";
import type { CommentMode } from "./inputs.js";
import { MARKER } from "./markdown.js";

/** The default GITHUB_TOKEN's author, when GitHub answers neither REST nor GraphQL about the token. */
const ACTIONS_BOT = "github-actions[bot]";

/**
 * The login GitHub writes the token's comments as. A personal access token: its user (`GET /user`). A
 * GitHub App installation token, the workflow's GITHUB_TOKEN included, may not read `/user` (403
 * "Resource not accessible by integration"); GraphQL's `viewer` names its bot, `<app slug>[bot]`.
 */
export async function tokenLogin(gh: GitHub): Promise<string> {
  try {
    return (await gh.rest.users.getAuthenticated()).data.login;
  } catch (error) {
    if (statusOf(error) !== 403) throw error;
  }
  try {
    return (await gh.graphql<{ viewer: { login: string } }>("query { viewer { login } }")).viewer.login;
  } catch (error) {
    core.info(
      `the token's bot is not named by GraphQL (${(error as Error).message}); taking ${ACTIONS_BOT}, the workflow token's`,
    );
    return ACTIONS_BOT;
  }
}

export interface CommentResult {
  url: string;
  action: "created" | "updated" | "unchanged";
}

/**
 * Posts the report as the pull request's one MCP-Forge comment: the newest comment that the token's
 * own identity wrote and that starts with the marker is edited in place; anyone else's comment, marker
 * or not, is never touched. `on-change` leaves that comment as it is when it already carries `state`
 * (stateMarker: same metrics, gate and drift verdict).
 */
export async function upsertComment(
  gh: GitHub,
  where: Repo & { issue: number },
  body: string,
  options: { mode: Exclude<CommentMode, "off">; state: string },
): Promise<CommentResult> {
  const login = await tokenLogin(gh);
  const comments = await gh.paginate(gh.rest.issues.listComments, {
    owner: where.owner,
    repo: where.repo,
    issue_number: where.issue,
    per_page: 100,
  });
  const mine = comments.filter((c) => c.user?.login === login && (c.body ?? "").startsWith(MARKER)).at(-1);
  if (!mine) {
    const { data } = await gh.rest.issues.createComment({
      owner: where.owner,
      repo: where.repo,
      issue_number: where.issue,
      body,
    });
    return { url: data.html_url, action: "created" };
  }
  if (options.mode === "on-change" && (mine.body ?? "").includes(options.state))
    return { url: mine.html_url, action: "unchanged" };
  const { data } = await gh.rest.issues.updateComment({
    owner: where.owner,
    repo: where.repo,
    comment_id: mine.id,
    body,
  });
  return { url: data.html_url, action: "updated" };
}
