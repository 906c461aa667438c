import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { runComposite } from "../support/composite.js";
import { type Comment, FakeGitHub } from "../support/fakes/github-api.js";
import { FIXTURES, Job, ROOT } from "./runner.js";

const TOKEN = "ghs_fakeTokenForTheLoopbackApi0001";
let gh: FakeGitHub;

beforeAll(async () => {
  gh = await new FakeGitHub("octo-org", "weather-mcp", TOKEN).start();
});
afterAll(async () => {
  await gh.stop();
  await Job.cleanup();
});

/** A PR job whose earlier steps left tools.json, qc.json and the given benchmark.json behind. */
async function prJob(event: string, benchmark: string, inputs: Record<string, string> = {}): Promise<Job> {
  const job = await Job.create({
    event,
    eventName: "pull_request",
    ref: "refs/pull/7/merge",
    env: { GITHUB_API_URL: gh.url, INPUT_TOOLS_FILE: "tools.json", INPUT_GITHUB_TOKEN: TOKEN, ...inputs },
  });
  const reports = join(job.workspace, ".mcp-forge", "reports");
  await mkdir(reports, { recursive: true });
  await copyFile(join(ROOT, "tests", "fixtures", "data", "tools.json"), join(job.workspace, "tools.json"));
  await copyFile(
    join(ROOT, "tests", "fixtures", "data", "tools.json"),
    join(job.workspace, ".mcp-forge", "tools.json"),
  );
  await copyFile(join(FIXTURES, "qc.json"), join(reports, "qc.json"));
  await copyFile(join(FIXTURES, benchmark), join(reports, "benchmark.json"));
  expect((await job.step("setup")).code).toBe(0);
  return job;
}

/** The pull_request event of PR `number`, written into the job's folder; its path for GITHUB_EVENT_PATH. */
async function prEvent(dir: string, number: number): Promise<string> {
  const event = JSON.parse(await readFile(join(FIXTURES, "pull_request.json"), "utf8")) as {
    pull_request: { number: number };
    number: number;
  };
  event.pull_request.number = number;
  event.number = number;
  const path = join(dir, `event-${number}.json`);
  await writeFile(path, JSON.stringify(event));
  return path;
}

const comment = (id: number, body: string, login: string, type: "User" | "Bot"): Comment => ({
  id,
  body,
  html_url: `https://github.com/octo-org/weather-mcp/pull/11#issuecomment-${id}`,
  user: { login, type },
});

describe("PR comment and gate", () => {
  it("creates one comment, then updates the same one; a planted regression fails the gate and shows in it", async () => {
    const first = await prJob("pull_request.json", "benchmark-pass.json");
    const gate = await first.step("gate");
    expect(gate.code).toBe(0);
    expect(gate.outputs.passed).toBe("true");
    const report = await first.step("report");
    expect(report.code, report.stdout).toBe(0);
    const comments = gh.comments.get(7) ?? [];
    expect(comments).toHaveLength(1);
    expect(report.outputs["comment-url"]).toBe(comments[0]!.html_url);
    expect(comments[0]!.body).toContain("## ✅ MCP-Forge: passed");
    expect(comments[0]!.body).toContain(
      "| toolSelectionAccuracy | 93.4% | +1.3 pp | −1.7 pp … +4.3 pp | ≥ 90.0% | ✅ |",
    );
    expect(report.summary.trim()).toBe(comments[0]!.body.trim());

    const second = await prJob("pull_request.json", "benchmark-regression.json");
    const failed = await second.step("gate");
    expect(failed.code).toBe(1);
    expect(failed.outputs.passed).toBe("false");
    expect(failed.outputs.regressions).toBe("toolSelectionAccuracy");
    expect(failed.stdout).toMatch(
      /::error title=MCP-Forge gate failed on toolSelectionAccuracy::toolSelectionAccuracy regressed by 0\.06 against the baseline/,
    );
    const again = await second.step("report");
    expect(again.code).toBe(0);
    const after = gh.comments.get(7) ?? [];
    expect(after).toHaveLength(1);
    expect(after[0]!.id).toBe(comments[0]!.id);
    expect(after[0]!.body).toContain(
      "## ❌ MCP-Forge: failed: toolSelectionAccuracy below threshold, toolSelectionAccuracy regressed",
    );
    expect(after[0]!.body).toContain("| toolSelectionAccuracy | 86.1% | −6.0 pp |");
  });

  it("finds its own (bot) comment on a busy PR's second page and updates it, not a pasted copy", async () => {
    const busy = Array.from({ length: 150 }, (_, i) => ({
      id: 10_000 + i,
      body: `review comment ${i}`,
      html_url: `https://github.com/octo-org/weather-mcp/pull/9#issuecomment-${10_000 + i}`,
      user: { login: "reviewer", type: "User" },
    }));
    busy[3] = { ...busy[3]!, body: "<!-- mcp-forge-report -->\npasted by a reviewer" };
    busy[130] = {
      ...busy[130]!,
      body: "<!-- mcp-forge-report -->\nold report",
      user: { login: "github-actions[bot]", type: "Bot" },
    };
    gh.comments.set(9, busy);
    const job = await prJob("pull_request.json", "benchmark-pass.json");
    const report = await job.step("report", { GITHUB_EVENT_PATH: await prEvent(job.dir, 9) });
    expect(report.code).toBe(0);
    const after = gh.comments.get(9)!;
    expect(after).toHaveLength(150);
    expect(after[130]!.body).toContain("## ✅ MCP-Forge: passed");
    expect(after[3]!.body).toContain("pasted by a reviewer");
    expect(gh.requests).toContain("GET /repos/octo-org/weather-mcp/issues/9/comments");
  });

  it("the threshold column is the thresholds input over the defaults, set through action.yml; ✅ only for a metric that meets its gate", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mcp-forge-thresholds-"));
    try {
      const workspace = join(dir, "ws");
      await mkdir(join(workspace, ".mcp-forge", "reports"), { recursive: true });
      await mkdir(join(dir, "temp"));
      await copyFile(join(ROOT, "tests", "fixtures", "data", "tools.json"), join(workspace, "tools.json"));
      await copyFile(
        join(ROOT, "tests", "fixtures", "data", "tools.json"),
        join(workspace, ".mcp-forge", "tools.json"),
      );
      await copyFile(join(FIXTURES, "benchmark-pass.json"), join(workspace, ".mcp-forge", "reports", "benchmark.json"));
      const run = await runComposite({
        actionPath: ROOT,
        dir,
        token: TOKEN,
        only: ["setup", "report"],
        inputs: {
          "tools-file": "tools.json",
          python: process.execPath,
          thresholds: "toolSelectionAccuracy: 0\nargumentAccuracy: 0.8\nschemaConformance: 0.99",
        },
        env: {
          PATH: process.env.PATH ?? "",
          HOME: dir,
          GITHUB_WORKSPACE: workspace,
          RUNNER_TEMP: join(dir, "temp"),
          GITHUB_EVENT_PATH: await prEvent(dir, 12),
          GITHUB_EVENT_NAME: "pull_request",
          GITHUB_REF: "refs/pull/12/merge",
          GITHUB_REPOSITORY: "octo-org/weather-mcp",
          GITHUB_API_URL: gh.url,
        },
      });
      expect(
        run.steps.filter((s) => s.outcome !== "skipped").map((s) => `${s.id} ${s.outcome}`),
        run.steps.map((s) => s.log).join("\n"),
      ).toEqual(["setup success", "report success"]);
      const body = gh.comments.get(12)![0]!.body;
      expect(body).toContain("| toolSelectionAccuracy | 93.4% | +1.3 pp | −1.7 pp … +4.3 pp | ≥ 0.0% | ✅ |");
      expect(body).toContain("| argumentAccuracy | 81.2% | +1.2 pp | −1.8 pp … +4.2 pp | ≥ 80.0% | ✅ |");
      expect(body).toContain("| schemaConformance | 98.1% | +0.6 pp | −2.4 pp … +3.6 pp | ≥ 99.0% | ❌ |");
      expect(body).toContain("| toolCallParseRate | 99.5% | +0.5 pp | −2.5 pp … +3.5 pp | ≥ 98.0% | ✅ |");
      expect(body).toContain("## ❌ MCP-Forge: failed: schemaConformance below threshold");
      for (const metric of [
        "toolCallParseRate",
        "schemaConformance",
        "toolSelectionAccuracy",
        "argumentAccuracy",
        "noToolCorrectness",
        "errorHandlingRate",
        "loopCompletionRate",
      ]) {
        expect(body, metric).toMatch(new RegExp(`^\\| ${metric} \\|.*\\| ≥ \\d+\\.\\d% \\| (✅|❌) \\|$`, "m"));
      }
      expect(run.summary).toContain(body.trim());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("updates only a comment its token wrote: a person's or another app's copy of the marker is left alone (the default token: github-actions[bot])", async () => {
    const person = comment(
      20_001,
      "<!-- mcp-forge-report -->\nquoted by a reviewer: the old report said it passed",
      "reviewer",
      "User",
    );
    const otherApp = comment(20_002, "<!-- mcp-forge-report -->\nanother app's copy", "renovate[bot]", "Bot");
    gh.comments.set(11, [person, otherApp]);
    const job = await prJob("pull_request.json", "benchmark-pass.json");
    const event = await prEvent(job.dir, 11);
    const first = await job.step("report", { GITHUB_EVENT_PATH: event });
    expect(first.code, first.stdout).toBe(0);
    const after = gh.comments.get(11)!;
    expect(after).toHaveLength(3);
    expect(after[0]).toEqual(person);
    expect(after[1]).toEqual(otherApp);
    expect(after[2]!.user.login).toBe("github-actions[bot]");
    expect(after[2]!.body).toContain("## ✅ MCP-Forge: passed");
    expect(first.outputs["comment-url"]).toBe(after[2]!.html_url);
    expect(gh.requests).toContain("GET /user");
    expect(gh.requests).toContain("POST /graphql");

    const again = await (
      await prJob("pull_request.json", "benchmark-regression.json")
    ).step("report", { GITHUB_EVENT_PATH: event });
    expect(again.code).toBe(0);
    expect(gh.comments.get(11)!.map((c) => c.id)).toEqual([20_001, 20_002, after[2]!.id]);
    expect(gh.comments.get(11)![2]!.body).toContain("## ❌ MCP-Forge: failed");
    expect(gh.comments.get(11)![0]).toEqual(person);
  });

  it("with a personal access token, its user (GET /user) owns the comment; the default token's old comment is left alone", async () => {
    const pat = "ghp_fakePersonalAccessTokenForTheApi01";
    const asUser = await new FakeGitHub("octo-org", "weather-mcp", pat, { kind: "user", login: "forge-ci" }).start();
    try {
      const oldBot = comment(
        30_001,
        "<!-- mcp-forge-report -->\nthe default token's report",
        "github-actions[bot]",
        "Bot",
      );
      const mine = comment(30_002, "<!-- mcp-forge-report -->\nforge-ci's report", "forge-ci", "User");
      asUser.comments.set(7, [oldBot, mine]);
      const job = await prJob("pull_request.json", "benchmark-pass.json", {
        GITHUB_API_URL: asUser.url,
        INPUT_GITHUB_TOKEN: pat,
      });
      const report = await job.step("report");
      expect(report.code, report.stdout).toBe(0);
      const after = asUser.comments.get(7)!;
      expect(after).toHaveLength(2);
      expect(after[0]).toEqual(oldBot);
      expect(after[1]!.body).toContain("## ✅ MCP-Forge: passed");
      expect(asUser.requests).toContain("GET /user");
      expect(asUser.requests).not.toContain("POST /graphql");
    } finally {
      await asUser.stop();
    }
  });

  it("comment: on-change leaves the comment untouched when no metric, gate or drift verdict changed, and updates it when one did", async () => {
    const run = async (benchmark: string, mode = "on-change") => {
      const job = await prJob("pull_request.json", benchmark, { INPUT_COMMENT: mode });
      return job.step("report", { GITHUB_EVENT_PATH: await prEvent(job.dir, 13) });
    };
    const first = await run("benchmark-pass.json");
    expect(first.code, first.stdout).toBe(0);
    const created = gh.comments.get(13)!;
    expect(created).toHaveLength(1);
    const { id, body } = created[0]!;
    const patches = () =>
      gh.requests.filter((r) => r === `PATCH /repos/octo-org/weather-mcp/issues/comments/${id}`).length;

    const same = await run("benchmark-pass.json");
    expect(same.code).toBe(0);
    expect(same.stdout).toContain("nothing changed since the PR comment");
    expect(same.outputs["comment-url"]).toBe(created[0]!.html_url);
    expect(patches()).toBe(0);
    expect(gh.comments.get(13)![0]!.body).toBe(body);

    const changed = await run("benchmark-regression.json");
    expect(changed.code).toBe(0);
    expect(patches()).toBe(1);
    expect(gh.comments.get(13)![0]!.body).toContain("## ❌ MCP-Forge: failed");

    const always = await run("benchmark-regression.json", "always");
    expect(always.code).toBe(0);
    expect(patches()).toBe(2);
    const off = await run("benchmark-pass.json", "off");
    expect(off.code).toBe(0);
    expect(patches()).toBe(2);
    expect(off.outputs["comment-url"]).toBeUndefined();
    expect(off.summary).toContain("## ✅ MCP-Forge: passed");
  });

  it("a user threshold above the measured value fails the gate naming the metric", async () => {
    const job = await prJob("pull_request.json", "benchmark-pass.json", {
      INPUT_THRESHOLDS: "argumentAccuracy: 0.9\nschemaConformance: 0.95",
    });
    const gate = await job.step("gate");
    expect(gate.code).toBe(1);
    expect(gate.stdout).toContain(
      "::error title=MCP-Forge gate failed on argumentAccuracy::argumentAccuracy 0.812 is below the threshold 0.9",
    );
    expect(gate.stdout).not.toContain("gate failed on schemaConformance");
  });

  it("on a fork's PR (read-only token) writes only the job summary and passes", async () => {
    gh.readOnly = true;
    try {
      const job = await prJob("pull_request_fork.json", "benchmark-pass.json");
      const report = await job.step("report");
      expect(report.code).toBe(0);
      expect(report.stdout).toMatch(
        /::warning title=MCP-Forge comment skipped::cannot comment on pull request #8 \(HTTP 403: this PR comes from a fork/,
      );
      expect(report.summary).toContain("## ✅ MCP-Forge: passed");
      expect(gh.comments.get(8)).toBeUndefined();
      expect(report.outputs["comment-url"]).toBeUndefined();
    } finally {
      gh.readOnly = false;
    }
  });

  it("rejects bad inputs at set-up, naming the input", async () => {
    const job = await Job.create({
      event: "pull_request.json",
      eventName: "pull_request",
      ref: "refs/pull/7/merge",
      env: { INPUT_SERVER_COMMAND: "node s.js", INPUT_TOOLS_FILE: "t.json" },
    });
    const setup = await job.step("setup");
    expect(setup.code).toBe(2);
    expect(setup.stdout).toContain("inputs server-command and tools-file are all set; set exactly one");
    const typo = await Job.create({
      event: "pull_request.json",
      eventName: "pull_request",
      ref: "refs/pull/7/merge",
      env: { INPUT_TOOLS_FILE: "t.json", INPUT_THRESHOLDS: "toolSelectonAccuracy: 0.9" },
    });
    const bad = await typo.step("setup");
    expect(bad.code).toBe(2);
    expect(bad.stdout).toContain("input thresholds: /toolSelectonAccuracy is not a metric");
    const noPython = await Job.create({
      event: "pull_request.json",
      eventName: "pull_request",
      ref: "refs/pull/7/merge",
      env: { INPUT_TOOLS_FILE: "t.json", INPUT_PYTHON: "venv/bin/python" },
    });
    const missing = await noPython.step("setup");
    expect(missing.code).toBe(2);
    expect(missing.stdout).toMatch(/input python: .*venv\/bin\/python does not exist/);
    const settings = await Job.create({
      event: "pull_request.json",
      eventName: "pull_request",
      ref: "refs/pull/7/merge",
      env: { INPUT_TOOLS_FILE: "t.json", INPUT_TRAIN_SETTINGS: "max_steps=8\nlearning_rate 1e-4" },
    });
    const malformed = await settings.step("setup");
    expect(malformed.code).toBe(2);
    expect(malformed.stdout).toContain('input train-settings, line 2: "learning_rate 1e-4" is not key=value');
  });

  it("masks the token, server-url credentials and header values, and keeps them out of the uploaded reports", async () => {
    const password = "s3cr3t-Pa55word";
    const apiKey = "KEY-0123456789abcdef";
    const url = `https://bot:${password}@mcp.example.com/mcp?api_key=${apiKey}`;
    const bearer = "tok-abcdefgh12345";
    const job = await Job.create({
      event: "pull_request.json",
      eventName: "pull_request",
      ref: "refs/pull/7/merge",
      env: {
        GITHUB_API_URL: gh.url,
        INPUT_SERVER_URL: url,
        INPUT_SERVER_HEADERS: `Authorization: Bearer ${bearer}`,
        INPUT_GITHUB_TOKEN: TOKEN,
        INPUT_COMMENT: "false",
      },
    });
    const workdir = join(job.workspace, ".mcp-forge");
    await mkdir(join(workdir, "reports"), { recursive: true });
    const tools = JSON.parse(await readFile(join(ROOT, "tests", "fixtures", "data", "tools.json"), "utf8")) as Record<
      string,
      unknown
    >;
    await writeFile(join(workdir, "tools.json"), JSON.stringify({ ...tools, source: { kind: "mcp-http", url } }));
    const qc = JSON.parse(await readFile(join(FIXTURES, "qc.json"), "utf8")) as { issues: Array<{ message: string }> };
    qc.issues[0]!.message = `server said: bad key ${apiKey}`;
    await writeFile(join(workdir, "reports", "qc.json"), JSON.stringify(qc));
    const setup = await job.step("setup");
    expect(setup.code).toBe(0);
    for (const secret of [password, apiKey, TOKEN, bearer]) expect(setup.stdout).toContain(`::add-mask::${secret}`);
    const report = await job.step("report");
    expect(report.code).toBe(0);
    const dir = report.outputs["artifacts-dir"]!;
    const files = await readdir(dir);
    expect(files).toEqual(expect.arrayContaining(["qc.json", "tools.json", "action-report.md"]));
    for (const file of files) {
      const text = await readFile(join(dir, file), "utf8");
      for (const secret of [password, apiKey, TOKEN]) expect(text, `${file} holds a secret`).not.toContain(secret);
    }
    expect(await readFile(join(dir, "tools.json"), "utf8")).toContain(
      "https://bot:***@mcp.example.com/mcp?api_key=***",
    );
  });
});
