import { basename, dirname, join, resolve } from "node:path";

import { MAX_SAMPLES, parseCount } from "../../cli/bounds.js";
import { writeFileAtomic, writeJsonAtomic } from "../../core/atomic.js";
import { sha256 } from "../../core/canonical.js";
import { toolsetHash } from "../../core/canonical.js";
import { DEFAULT_SCENARIO_MIX, type Scenario } from "../../core/contract.js";
import { badInput } from "../../core/errors.js";
import { onShutdown } from "../../core/shutdown.js";
import { outputHashes, withStage } from "../../core/state.js";
import { type McpTool, readToolsFile } from "../../core/toolset.js";
import { connectToServer, describeTarget, type McpConnection, type ServerTarget } from "../../mcp/connect.js";
import { listAllTools } from "../../mcp/list-tools.js";
import { toJsonl } from "../../samples/jsonl.js";
import { type Sample } from "../../samples/sample.js";
import { recordedQc } from "../qa/recorded.js";
import type { QcReport, QcThresholds } from "../qa/report.js";
import { assemble } from "./assemble.js";
import { claimVariant, paraphrase, swapValues } from "./augment.js";
import { type Counters, type GenContext, makeContext } from "./context.js";
import { discover, type DiscoveryReport } from "./discovery.js";
import { type Draft, offlineDraft } from "./drafts.js";
import type { LlmTally } from "./llm-client.js";
import { LlmSeeds, type LlmSettings, type SeedRequest } from "./llm-seeds.js";
import { buildPlan, type ExecuteMode, type PlanCell, type SynthesisPlan } from "./plan.js";
import { makeProgress } from "./progress.js";
import { Rng } from "./rng.js";
import { formatSuccess, type SuccessTally, ToolExecutor } from "./server-calls.js";

export interface GenerateOptions {
  workdir: string;
  /** tools.json to read; default `<workdir>/tools.json` unless a server is given. */
  toolsPath?: string;
  /** A live server: lists the tools (when no tools file is given) and runs the calls the policy allows. */
  server?: ServerTarget;
  /** Start-up and list timeout for the server, ms (default 30 s). */
  timeoutMs?: number;
  /** Limit for one tool call, ms (default 10 s); a tool that exceeds it is stubbed from then on. */
  callTimeoutMs?: number;
  /** Training split path; default `<workdir>/data/train.jsonl` (eval.jsonl beside it). */
  out?: string;
  samples?: number;
  seed?: number;
  scenarioMix?: Record<Scenario, number>;
  toolWeights?: Record<string, number>;
  evalRatio?: number;
  augmentFactor?: number;
  execute?: ExecuteMode;
  llm?: LlmSettings;
  /** "auto": a bar on a terminal, periodic lines otherwise. */
  progress?: "auto" | "quiet";
  /** Run the QC gate on the training split at the end (default true). */
  gate?: boolean;
  qaThresholds?: Partial<QcThresholds>;
  /** When the server process dies mid-call, finish with stub results instead of failing (exit 2). */
  continueOnServerCrash?: boolean;
  /** Human lines (warnings, the LLM tally). */
  log?: (line: string) => void;
}

export interface GenerateResult {
  trainPath: string;
  evalPath: string;
  planPath: string;
  train: number;
  eval: number;
  plan: SynthesisPlan;
  resultSources: Record<string, number>;
  /** Real tool calls made per tool. */
  executed: Record<string, number>;
  /** Per tool, standard calls run on the server (retries included) and how many it accepted. */
  serverSuccess: Record<string, SuccessTally>;
  /** What the discovery pass found on a live server. */
  discovery?: DiscoveryReport;
  /** Fresh server processes started so that no sample saw another's state. */
  serverRestarts: number;
  counters: Counters;
  llm?: LlmTally;
  qc?: QcReport;
}

export const DEFAULTS = {
  samples: 500,
  seed: 42,
  evalRatio: 0.1,
  augmentFactor: 10,
  execute: "readonly" as ExecuteMode,
  callTimeoutMs: 10_000,
  timeoutMs: 30_000,
};

/** Makes the training and held-out evaluation splits for a toolset; the pipeline's SYNTHESIZING stage. */
export async function generateDataset(options: GenerateOptions): Promise<GenerateResult> {
  const workdir = resolve(options.workdir);
  const log = options.log ?? (() => undefined);
  const samples = parseCount(options.samples ?? DEFAULTS.samples, "--samples", { min: 1, max: MAX_SAMPLES });
  const seed = options.seed ?? DEFAULTS.seed;
  const augmentFactor = options.augmentFactor ?? DEFAULTS.augmentFactor;
  const evalRatio = options.evalRatio ?? DEFAULTS.evalRatio;
  if (!Number.isInteger(augmentFactor) || augmentFactor < 1)
    throw badInput(`--augment-factor ${augmentFactor}: expected a whole number ≥ 1`);
  if (!(evalRatio > 0 && evalRatio < 1)) throw badInput(`--eval-ratio ${evalRatio}: expected a number between 0 and 1`);
  const trainPath = resolve(options.out ?? join(workdir, "data", "train.jsonl"));
  const evalPath = join(
    dirname(trainPath),
    basename(trainPath) === "train.jsonl" ? "eval.jsonl" : basename(trainPath).replace(/(\.jsonl)?$/, ".eval.jsonl"),
  );
  const planPath = join(workdir, "synthesis_plan.json");

  let connection: McpConnection | undefined;
  let interrupted = false;
  const stop = onShutdown(async () => {
    interrupted = true;
    await connection?.close();
  });
  try {
    if (options.server) {
      connection = await connectToServer(options.server, {
        timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
        logDir: join(workdir, "logs"),
      });
    }
    const { tools, serverName } = await loadTools(options, workdir, connection);
    const hash = toolsetHash(tools);
    const rng = new Rng(seed);
    const plan = buildPlan(
      {
        tools,
        toolsetHash: hash,
        samples,
        seed,
        scenarioMix: options.scenarioMix ?? DEFAULT_SCENARIO_MIX,
        ...(options.toolWeights ? { toolWeights: options.toolWeights } : {}),
        evalRatio,
        augmentFactor,
        execute: options.execute ?? DEFAULTS.execute,
        generator: options.llm ? "llm" : "offline",
        minPerTool: options.qaThresholds?.minPerTool ?? 10,
      },
      rng.fork("plan"),
    );
    const thin = Object.entries(plan.perTool).filter(([, n]) => n < plan.minimums.perTool);
    if (thin.length > 0) {
      const calling = Object.values(plan.perTool).reduce((a, n) => a + n, 0);
      const enough = Math.ceil((samples * plan.minimums.perTool * tools.length) / Math.max(1, calling) / 100) * 100;
      log(
        `warning: ${thin.length} tool(s) get fewer than ${plan.minimums.perTool} samples (e.g. ${thin[0]![0]}: ${thin[0]![1]}); the QC gate will fail. Use --samples ${enough} or more.`,
      );
    }
    await writeJsonAtomic(planPath, plan);
    const server = options.server;
    // A new process resets a stdio server; a new connection to an HTTP server resets nothing.
    const reconnect =
      server?.kind === "stdio"
        ? () =>
            connectToServer(server, {
              timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
              logDir: join(workdir, "logs"),
            })
        : undefined;
    const executor = new ToolExecutor(
      connection,
      plan.execute,
      options.callTimeoutMs ?? DEFAULTS.callTimeoutMs,
      reconnect,
      log,
      options.continueOnServerCrash,
    );
    const progress = makeProgress(plan.samples + plan.evalSamples, options.progress ?? "auto");
    const ctx = makeContext(tools, serverName, executor, () => progress.update(ctx.counters));
    const source = options.llm ? new LlmSeeds(ctx, options.llm) : undefined;
    const { value } = await withStage(
      workdir,
      "SYNTHESIZING",
      {
        inputs: { tools: hash, plan: `sha256:${sha256(JSON.stringify(plan))}` },
        finish: ({ record }) => record,
      },
      async () => {
        try {
          const discovery = await discover(ctx, rng.fork("discovery"));
          const breathe = breather(() => interrupted);
          const train = await buildSplit(ctx, plan.train, augmentFactor, "train", rng.fork("train"), source, breathe);
          const held = await buildSplit(ctx, plan.eval, 1, "eval", rng.fork("eval"), source, breathe);
          rng.fork("order").shuffle(train);
          const trainText = toJsonl(train);
          const evalText = toJsonl(held);
          await writeFileAtomic(trainPath, trainText);
          await writeFileAtomic(evalPath, evalText);
          progress.stop(ctx.counters);
          const resultSources: Record<string, number> = {};
          for (const s of [...train, ...held])
            if (s.resultSource) resultSources[s.resultSource] = (resultSources[s.resultSource] ?? 0) + 1;
          const executed = Object.fromEntries(executor.executedByTool);
          const tally = source?.tally();
          if (tally) log(formatTally(tally));
          const serverSuccess = Object.fromEntries(executor.success);
          if (executor.success.size > 0) log(formatSuccess(executor.success, executor.stateful, executor.restarts));
          const record = {
            outputs: await outputHashes(workdir, [trainPath, evalPath, planPath]),
            summary: {
              train: train.length,
              eval: held.length,
              seed,
              generator: plan.generator,
              toolCalls: ctx.counters.toolCalls,
              resultSources,
              serverSuccess,
              serverRestarts: executor.restarts,
              ...(discovery ? { discovery } : {}),
              ...(tally ? { llm: tally } : {}),
            },
          };
          const result: GenerateResult = {
            trainPath,
            evalPath,
            planPath,
            train: train.length,
            eval: held.length,
            plan,
            resultSources,
            executed,
            serverSuccess,
            serverRestarts: executor.restarts,
            ...(discovery ? { discovery } : {}),
            counters: ctx.counters,
            ...(tally ? { llm: tally } : {}),
          };
          return { result, record };
        } finally {
          progress.stop(ctx.counters);
          await executor.close();
        }
      },
    );
    const { result } = value;
    if (options.gate !== false) result.qc = await gate(workdir, trainPath, tools, plan, options.qaThresholds);
    return result;
  } finally {
    stop();
    await connection?.close();
  }
}

/** The QC gate on what generate wrote, recorded as the QC_VALIDATING stage. */
async function gate(
  workdir: string,
  data: string,
  tools: McpTool[],
  plan: SynthesisPlan,
  thresholds?: Partial<QcThresholds>,
): Promise<QcReport> {
  return recordedQc(workdir, {
    data,
    tools,
    reportDir: join(workdir, "reports"),
    plannedSamples: plan.samples,
    thresholds: { minPerTool: plan.minimums.perTool, requiredScenarios: plan.minimums.scenarios, ...thresholds },
  });
}

async function loadTools(
  options: GenerateOptions,
  workdir: string,
  connection: McpConnection | undefined,
): Promise<{ tools: McpTool[]; serverName: string }> {
  if (options.toolsPath || !connection) {
    const file = await readToolsFile(options.toolsPath ?? join(workdir, "tools.json"));
    return { tools: file.tools, serverName: file.server?.name ?? "available" };
  }
  const tools = await listAllTools(connection, { timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs });
  if (tools.length === 0)
    throw badInput(`the server \`${describeTarget(options.server!)}\` lists no tools; nothing to generate`);
  return { tools, serverName: connection.serverInfo.name };
}

/** Samples made between yields to the event loop, so that SIGINT is heard at once even when no call awaits I/O. */
const YIELD_EVERY = 200;

/**
 * Called after each sample: every {@link YIELD_EVERY} samples it lets the event loop run; once
 * interrupted it never returns, so the loop stops competing with the cleanup before the exit.
 */
function breather(interrupted: () => boolean): () => Promise<void> {
  let made = 0;
  return async () => {
    if (++made % YIELD_EVERY === 0) await new Promise(setImmediate);
    if (interrupted()) await new Promise<never>(() => undefined);
  };
}

/** A seed and its augmented variants per group; groups never mix scenarios or tools. */
async function buildSplit(
  ctx: GenContext,
  cells: PlanCell[],
  factor: number,
  split: "train" | "eval",
  rng: Rng,
  llm: LlmSeeds | undefined,
  breathe: () => Promise<void>,
): Promise<Sample[]> {
  const groups: Array<SeedRequest & { seedId: string; size: number; groupRng: Rng }> = [];
  for (const cell of cells) {
    // Every seed gets at least `factor` samples (the remainder is spread over the groups), unless the cell is smaller.
    const count = Math.max(1, Math.floor(cell.count / factor));
    for (let k = 0; k < count; k++) {
      const index = groups.length;
      const groupRng = rng.fork(`${cell.scenario}/${cell.tool ?? "-"}/${index}`);
      const seedId = `${split}-${String(index).padStart(5, "0")}`;
      const size = Math.floor(cell.count / count) + (k < cell.count % count ? 1 : 0);
      groups.push({
        scenario: cell.scenario,
        ...(cell.tool ? { tool: cell.tool } : {}),
        key: `${split}/${index}`,
        split,
        rng: groupRng.fork("seed"),
        seedId,
        size,
        groupRng,
      });
    }
  }
  // Interleaved tools: what a live server shows early (e.g. a listed directory) helps every tool's later calls.
  rng.fork("order").shuffle(groups);
  // LLM requests run concurrently; turning answers into samples stays sequential, so output order and text claims are fixed.
  // The LLM writes a share of the seeds (--llm-seed-share); the offline generator writes the others and their variants.
  const answers = groups.map((g) => (llm?.writesSeed(g.groupRng) ? llm.fetch(g) : undefined));
  for (const a of answers) a?.catch(() => undefined);
  const out: Sample[] = [];
  for (const [i, g] of groups.entries()) {
    const written = answers[i] !== undefined;
    const seedDraft = written
      ? llm!.toDraft(await answers[i], g)
      : offlineDraft(ctx, g.scenario, g.tool, g.rng, undefined, split);
    out.push(
      await finish(
        ctx,
        seedDraft,
        { id: `${g.seedId}-00`, seedId: g.seedId, source: "seed" },
        g.groupRng.fork("seed-result"),
      ),
    );
    await breathe();
    const rngs = Array.from({ length: g.size - 1 }, (_, k) => g.groupRng.fork(k + 1));
    const drafts =
      written && seedDraft.family === undefined
        ? await llmVariants(ctx, llm!, seedDraft, g.key, rngs)
        : rngs.map((vr) => offlineDraft(ctx, g.scenario, g.tool, vr, seedDraft));
    for (const [k, draft] of drafts.entries()) {
      out.push(
        await finish(
          ctx,
          draft,
          { id: `${g.seedId}-${String(k + 1).padStart(2, "0")}`, seedId: g.seedId, source: "augmented" },
          rngs[k]!.fork("result"),
        ),
      );
      await breathe();
    }
  }
  return out;
}

/** Variants of an LLM seed: values swapped, then reworded by the LLM (a share of them, all of a group at once), else offline. */
async function llmVariants(ctx: GenContext, llm: LlmSeeds, seed: Draft, key: string, rngs: Rng[]): Promise<Draft[]> {
  const swapped = rngs.map((vr) => swapValues(ctx, seed, vr));
  const reworded = await Promise.all(
    swapped.map((d, k) => (llm.rewordsVariant(rngs[k]!) ? llm.paraphrase(d, `${key}/${k + 1}`) : undefined)),
  );
  return swapped.map((d, k) =>
    claimVariant(ctx, { ...d, user: reworded[k] ?? paraphrase(d.user, rngs[k]!) }, rngs[k]!),
  );
}

async function finish(
  ctx: GenContext,
  draft: Draft,
  ids: { id: string; seedId: string; source: "seed" | "augmented" },
  rng: Rng,
): Promise<Sample> {
  const sample = await assemble(ctx, draft, ids, rng);
  ctx.counters.samples++;
  ctx.onProgress();
  return sample;
}

export function formatTally(t: LlmTally): string {
  const cost = t.costUsd === undefined ? "cost unknown for this model" : `≈ $${t.costUsd.toFixed(4)}`;
  return `LLM: ${t.requests} requests, ${t.cacheHits} cache hits, ${t.retries} retries, ${t.promptTokens} prompt + ${t.completionTokens} completion tokens, ${cost}; structured output: ${t.structuredOutput}`;
}
