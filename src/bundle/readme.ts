import type { McpTool } from "../core/toolset.js";
import { printable } from "../core/untrusted-text.js";
import type { AgentManifest, QualitySummary } from "./manifest.js";

/**
 * Text from a server (names, descriptions) made inert inside a Markdown line: no HTML, links,
 * autolinks, emphasis, code or table breaks, all on one line.
 */
export function escapeMarkdown(text: string): string {
  return printable(text)
    .replace(/\s+/g, " ")
    .trim()
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/:\/\//g, "\\://")
    .replace(/\bwww\./gi, (w) => `${w.slice(0, 3)}\\.`);
}

const fmt = (value: number | null | undefined) => (typeof value === "number" ? value.toFixed(3) : "–");

/** The bundle's README.md: what the model is for, its tools, its measured quality, how to run it. */
export function bundleReadme(manifest: AgentManifest, tools: readonly McpTool[]): string {
  const server = `${escapeMarkdown(manifest.server.name)} ${escapeMarkdown(manifest.server.version)}`;
  const base = manifest.baseModel.id ? escapeMarkdown(manifest.baseModel.id) : "a small open model";
  const example = tools.find((t) => /^[A-Za-z0-9_.-]+$/.test(t.name));
  const lines = [
    `# ${manifest.name} ${escapeMarkdown(manifest.version)}`,
    "",
    `A local model that calls the tools of the MCP server **${server}**: ${base} fine-tuned by MCP-Forge on ` +
      `${manifest.dataset.trainSamples ?? "an unknown number of"} synthesized conversations with those tools. It decides when a ` +
      "request needs a tool, writes the call with valid arguments, reads the result and answers; it asks when a request is ambiguous.",
    "",
    `Base model: ${manifest.baseModel.id ? `\`${escapeCode(manifest.baseModel.id)}\`` : "unknown"}${manifest.baseModel.revision ? ` (revision \`${escapeCode(manifest.baseModel.revision)}\`)` : ""} · ` +
      `quantization: ${escapeMarkdown(manifest.model.quantization ?? "unknown")} · toolset: \`${manifest.toolset.hash}\``,
    "",
    "## Tools",
    "",
    "| tool | what it does | required arguments |",
    "| --- | --- | --- |",
    ...tools.map(
      (t) => `| ${escapeMarkdown(t.name)} | ${escapeMarkdown(t.description ?? t.title ?? "")} | ${requiredArgs(t)} |`,
    ),
    "",
    "## Quality",
    "",
    ...qualityTable(manifest),
    "",
    "## Run it",
    "",
    "Use temperature 0. The prompt format (the model's chat template, stop sequences, the system prompt it was trained with) is in",
    "`prompt_template.json`; `agent.yaml` has the recommended runtime settings.",
    "",
    "### Ollama",
    "",
    "```sh",
    `ollama create ${manifest.name} -f Modelfile`,
    `ollama run ${manifest.name}`,
    "```",
    "",
    "Tool calling goes through Ollama's chat API: pass the tools (from `tools.json`) in `tools` and the model answers with `tool_calls`.",
    ...(example
      ? [
          "",
          "```sh",
          `curl http://localhost:11434/api/chat -d '{"model": "${manifest.name}", "stream": false, ` +
            `"messages": [{"role": "user", "content": "<a request for ${example.name}>"}], ` +
            `"tools": [{"type": "function", "function": {"name": "${example.name}", "parameters": {"type": "object"}}}]}'`,
          "```",
        ]
      : []),
    "",
    "### llama.cpp server",
    "",
    "```sh",
    `llama-server -m model.gguf --jinja -c ${manifest.runtime.contextSize} --temp 0`,
    "```",
    "",
    "`--jinja` makes the server use the chat template inside `model.gguf`; its OpenAI-compatible `/v1/chat/completions` then takes `tools` and returns `tool_calls`.",
    "",
    "### With the MCP server, through MCP-Forge",
    "",
    "```sh",
    'npx mcp-forge agent --bundle . --server "<command that starts the MCP server>"',
    "npx mcp-forge serve --bundle .",
    "```",
    "",
    "`agent` lets the model drive the live server's tools (one-shot or chat); `serve` offers OpenAI-compatible chat completions with tools on loopback, for any OpenAI client.",
    "",
    "## Check it",
    "",
    "```sh",
    "sha256sum -c SHA256SUMS",
    'npx mcp-forge verify-bundle . --server "<command that starts the MCP server>"',
    "```",
    "",
    "`verify-bundle` checks every file against `SHA256SUMS`, the manifest against its schema and the model's metadata against the",
    "manifest; with `--server`, `--url` or `--tools` it also tells whether the server's tools have changed since training, and whether",
    "the change can break calls.",
    "",
  ];
  return lines.join("\n");
}

function escapeCode(text: string): string {
  return printable(text).replace(/[`\s]/g, "");
}

function requiredArgs(tool: McpTool): string {
  const required = Array.isArray(tool.inputSchema.required)
    ? tool.inputSchema.required.filter((r): r is string => typeof r === "string")
    : [];
  return required.length > 0 ? required.map(escapeMarkdown).join(", ") : "none";
}

/** The eval set(s) the figures come from, so a reader knows whether they measure generated or hand-written prompts. */
function gradedOn(validation: QualitySummary, benchmark: QualitySummary): string[] {
  const sets = [validation.evalSet, benchmark.evalSet].filter(
    (s): s is NonNullable<QualitySummary["evalSet"]> => s !== undefined,
  );
  const unique = [...new Map(sets.map((s) => [`${s.file} ${s.hash}`, s])).values()];
  if (unique.length === 0) return [];
  return [
    "",
    `Graded on ${unique.map((s) => `${escapeMarkdown(s.file)} (\`${s.hash.slice(0, 19)}…\`)`).join(" and ")}.`,
  ];
}

function qualityTable(manifest: AgentManifest): string[] {
  const { validation, benchmark } = manifest;
  if (validation.status === "not run" && benchmark.status === "not run") {
    return ["Validation and benchmark were not run before packing: this model's quality is not measured."];
  }
  const metrics = [...new Set([...Object.keys(validation.metrics ?? {}), ...Object.keys(benchmark.metrics ?? {})])];
  const thresholds: Record<string, number> = { ...validation.thresholds, ...benchmark.thresholds };
  const status = (q: QualitySummary) =>
    q.status === "not run" ? "not run" : q.status === "passed" ? "passed" : "**failed**";
  return [
    `Validation: ${status(validation)} · benchmark: ${status(benchmark)}${benchmark.regressions?.length ? ` (regressed: ${benchmark.regressions.map(escapeMarkdown).join(", ")})` : ""}`,
    "",
    "| metric | validation | benchmark | threshold | base model |",
    "| --- | --- | --- | --- | --- |",
    ...metrics.map(
      (m) =>
        `| ${escapeMarkdown(m)} | ${fmt(validation.metrics?.[m])} | ${fmt(benchmark.metrics?.[m])} | ${thresholds[m] !== undefined ? `≥ ${thresholds[m]}` : "reported"} | ${fmt(benchmark.baselineMetrics?.[m])} |`,
    ),
    ...gradedOn(validation, benchmark),
    ...(benchmark.latencyMs
      ? [
          "",
          `Latency per request (ms): ${Object.entries(benchmark.latencyMs)
            .map(([k, v]) => `${escapeMarkdown(k)} ${Math.round(v)}`)
            .join(" · ")}`,
        ]
      : []),
  ];
}
