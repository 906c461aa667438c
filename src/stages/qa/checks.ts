import { looksLikeError } from "../../samples/error-text.js";
import { userText } from "../../samples/sample.js";
import { answerEcho, jsonLiterals, toolNameMatcher } from "./detectors.js";

/**
 * The counted checks for nonsense: each counts the samples it applies to and the ones it flags,
 * and the gate compares the flagged share with a threshold from mcp-forge.yaml's `qa:` section.
 * Flagged samples are kept (they are well formed); the worst ones are named when a check fails.
 */
export const CHECKS = [
  "jsonInUser",
  "toolNameInUser",
  "ungroundedValues",
  "serverSuccess",
  "errorTextInSuccess",
  "answerEcho",
  "sharedState",
] as const;
export type CheckName = (typeof CHECKS)[number];

/** The thresholds, as shares of the samples each check applies to. */
export interface CheckThresholds {
  /** Samples whose user text holds a JSON object or array. */
  maxJsonInUser: number;
  /** Samples whose user text names a tool by its identifier (`search_nodes`). */
  maxToolNameInUser: number;
  /** Calling samples with an argument value from faker or random words (no grounded source). */
  maxUngroundedValues: number;
  /** Standard samples of tools that ran on the server whose result is a server success. */
  minServerSuccess: number;
  /** Samples with a success result that reads as an error. */
  maxErrorTextInSuccess: number;
  /** Answers after a tool result that dump it (JSON, or a long verbatim copy). */
  maxAnswerEcho: number;
  /** Calling samples whose server state other samples saw. */
  maxSharedState: number;
}

export const DEFAULT_CHECK_THRESHOLDS: CheckThresholds = {
  maxJsonInUser: 0,
  maxToolNameInUser: 0.1,
  maxUngroundedValues: 0.5,
  minServerSuccess: 0.9,
  maxErrorTextInSuccess: 0,
  maxAnswerEcho: 0,
  maxSharedState: 0,
};

const LIMIT: Record<CheckName, { key: keyof CheckThresholds; label: string; fix: string }> = {
  jsonInUser: {
    key: "maxJsonInUser",
    label: "JSON in user text",
    fix: "regenerate with this version of `mcp-forge generate` (requests state lists and objects in words), or rewrite those requests",
  },
  toolNameInUser: {
    key: "maxToolNameInUser",
    label: "tool identifiers in user text",
    fix: "regenerate, or rewrite those requests to say what the user wants instead of naming the tool",
  },
  ungroundedValues: {
    key: "maxUngroundedValues",
    label: "argument values with no grounded source (faker or random words)",
    fix: "run generate against the live server (--server) so values come from it, or describe formats and examples in the tool's schema",
  },
  serverSuccess: {
    key: "minServerSuccess",
    label: "server success share of standard calls",
    fix: "check the server's log in <workdir>/logs; give the tools real inputs (files, records) or describe valid values in their schemas",
  },
  errorTextInSuccess: {
    key: "maxErrorTextInSuccess",
    label: "success results carrying error text",
    fix: "regenerate: such results are recorded as errors (resultIsError) by this version",
  },
  answerEcho: {
    key: "maxAnswerEcho",
    label: "answers echoing raw results",
    fix: "regenerate: answers report results in words by this version",
  },
  sharedState: {
    key: "maxSharedState",
    label: "samples that saw another sample's server state",
    fix: "regenerate with a fresh server per sample batch, or raise qa.maxSharedState in mcp-forge.yaml if the shared state is intended",
  },
};

export interface Flagged {
  line: number;
  id: string;
  detail: string;
  /** Higher is worse; the worst are named first. */
  score: number;
}

export interface CheckResult {
  name: CheckName;
  label: string;
  /** Samples the check applies to. */
  of: number;
  /** Samples flagged (for serverSuccess: samples that did not succeed). */
  count: number;
  share: number;
  /** The threshold: the most (or, for serverSuccess, the least) share allowed. */
  limit: number;
  passed: boolean;
  /** The worst flagged samples, worst first (at most MAX_LISTED). */
  worst: Flagged[];
  fix: string;
  /** serverSuccess only: successes and applicable samples per tool. */
  perTool?: Record<string, { ok: number; of: number }>;
}

const MAX_LISTED = 200;
const UNGROUNDED = new Set(["faker", "random"]);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a structurally checked sample, walked freely
type Row = Record<string, any>;

interface CallRecord {
  line: number;
  id: string;
  tool: string;
  ok: boolean;
  detail: string;
}

/** Collects what every counted check needs, one valid sample at a time. */
export class CountedChecks {
  private readonly applies = Object.fromEntries(CHECKS.map((c) => [c, 0])) as Record<CheckName, number>;
  private readonly flagged = Object.fromEntries(CHECKS.map((c) => [c, [] as Flagged[]])) as Record<
    CheckName,
    Flagged[]
  >;
  private readonly standardCalls: CallRecord[] = [];
  private readonly executed = new Set<string>();
  private readonly matchers = new Map<string, (text: string) => string[]>();

  constructor(private readonly toolNames?: readonly string[]) {}

  observe(sample: Row, line: number, id: string): void {
    const flag = (check: CheckName, detail: string, score = 1) => this.flagged[check].push({ line, id, detail, score });
    const messages = sample.messages as Row[];
    const user = userText(messages);
    this.applies.jsonInUser++;
    const json = jsonLiterals(user);
    if (json.length > 0) flag("jsonInUser", json[0]!.slice(0, 80), json.join("").length);
    this.applies.toolNameInUser++;
    const names = this.matcher(sample)(user);
    if (names.length > 0) flag("toolNameInUser", names.join(", "), names.length);

    const calls = messages.flatMap((m) => (Array.isArray(m.tool_calls) ? m.tool_calls : [])) as Row[];
    if (calls.length === 0) return;
    const sources =
      sample.argSources && typeof sample.argSources === "object"
        ? (sample.argSources as Record<string, unknown>)
        : undefined;
    if (sources) {
      this.applies.ungroundedValues++;
      const loose = Object.entries(sources).filter(([, s]) => UNGROUNDED.has(s as string));
      if (loose.length > 0)
        flag("ungroundedValues", loose.map(([k, s]) => `${k} (${String(s)})`).join(", "), loose.length);
    }
    this.applies.sharedState++;
    if (sample.serverState === "shared") flag("sharedState", "serverState is shared");

    const isError = sample.resultIsError === true;
    if (sample.resultSource === "server") this.executed.add(String(calls[0]!.function?.name));
    // A standard call the server rejected is an error sample now; it still counts against the share.
    if (sample.scenario === "standard" || sample.drawnAs === "standard") {
      const ok = sample.resultSource === "server" && !isError;
      this.standardCalls.push({
        line,
        id,
        tool: String(calls[0]!.function?.name),
        ok,
        detail: isError
          ? "the server returned an error"
          : `result from ${sample.resultSource ?? "nowhere"}, not the server`,
      });
    }
    this.checkResults(messages, isError, flag);
  }

  private checkResults(
    messages: Row[],
    isError: boolean,
    flag: (check: CheckName, detail: string, score?: number) => void,
  ): void {
    let echoChecked = false;
    let errorChecked = false;
    messages.forEach((m, i) => {
      if (m.role !== "tool" || typeof m.content !== "string") return;
      if (!isError) {
        if (!errorChecked) this.applies.errorTextInSuccess++;
        errorChecked = true;
        if (looksLikeError(m.content)) flag("errorTextInSuccess", m.content.slice(0, 80));
      }
      const answer = messages
        .slice(i + 1)
        .find((n) => n.role === "assistant" && !(Array.isArray(n.tool_calls) && n.tool_calls.length > 0));
      if (typeof answer?.content !== "string") return;
      if (!echoChecked) this.applies.answerEcho++;
      echoChecked = true;
      const echo = answerEcho(answer.content, m.content);
      if (echo) flag("answerEcho", echo, answer.content.length);
    });
  }

  private matcher(sample: Row): (text: string) => string[] {
    const names =
      this.toolNames ??
      (Array.isArray(sample.tools) ? sample.tools.map((t: Row) => String(t?.function?.name ?? "")) : []);
    const key = names.join("\n");
    let m = this.matchers.get(key);
    if (!m) this.matchers.set(key, (m = toolNameMatcher(names)));
    return m;
  }

  /** Each check's counts, share and verdict; serverSuccess applies only to tools that ran on the server. */
  results(t: CheckThresholds): CheckResult[] {
    const perTool: Record<string, { ok: number; of: number }> = {};
    for (const call of this.standardCalls) {
      if (!this.executed.has(call.tool)) continue;
      const entry = (perTool[call.tool] ??= { ok: 0, of: 0 });
      entry.of++;
      this.applies.serverSuccess++;
      if (call.ok) entry.ok++;
      else
        this.flagged.serverSuccess.push({
          line: call.line,
          id: call.id,
          detail: `${call.tool}: ${call.detail}`,
          score: 1,
        });
    }
    return CHECKS.map((name) => {
      const { key, label, fix } = LIMIT[name];
      const of = this.applies[name];
      const count = this.flagged[name].length;
      const limit = t[key];
      const share = of === 0 ? 0 : count / of;
      const passed = name === "serverSuccess" ? of === 0 || 1 - share >= limit : share <= limit;
      const worst = [...this.flagged[name]].sort((a, b) => b.score - a.score || a.line - b.line).slice(0, MAX_LISTED);
      return {
        name,
        label,
        of,
        count,
        share: Math.round(share * 1e6) / 1e6,
        limit,
        passed,
        worst,
        fix,
        ...(name === "serverSuccess" ? { perTool } : {}),
      };
    });
  }
}

/** One line for a failed check: the counts, the threshold, and the worst samples by line and id. */
export function describeFailure(r: CheckResult): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const where = r.worst
    .slice(0, 3)
    .map((f) => `line ${f.line}${f.id ? ` (${f.id})` : ""}: ${f.detail}`)
    .join("; ");
  const measure =
    r.name === "serverSuccess"
      ? `${r.label} is ${pct(1 - r.share)} (${r.of - r.count} of ${r.of}), below ${pct(r.limit)}`
      : `${r.label}: ${r.count} of ${r.of} samples (${pct(r.share)}, more than ${pct(r.limit)})`;
  return `${measure}; worst: ${where}`;
}
