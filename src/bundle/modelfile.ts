import { badInput } from "../core/errors.js";
import type { FunctionTool } from "../models/types.js";
import {
  type HermesFormat,
  pyJson,
  TOOL_CALL_CLOSE,
  TOOL_CALL_OPEN,
  TOOL_RESPONSE_CLOSE,
  TOOL_RESPONSE_OPEN,
} from "./chat-format.js";

export interface ModelfileInput {
  format: HermesFormat;
  /** The tools the model was trained on, as the chat template saw them. */
  tools: readonly FunctionTool[];
  systemPrompt?: string;
  stop: readonly string[];
  temperature: number;
  contextSize: number;
}

/** Nesting depth up to which tool-call arguments are written with the template's JSON spacing. */
const ARGUMENT_DEPTH = 4;

/**
 * An Ollama Modelfile whose TEMPLATE (Go text/template, the data Ollama passes: .System,
 * .Messages with .ToolCalls, .Tools) renders conversations as the model's chat template does.
 */
export function buildModelfile(input: ModelfileInput): string {
  const lines = [
    "# Ollama Modelfile written by mcp-forge pack. Create the model with:",
    "#   ollama create <name> -f Modelfile",
    "# The TEMPLATE renders prompts as the model's own chat template did in training. Tools the model",
    "# was trained on are listed with their trained schema; other tools with the schema Ollama passes.",
    "# Ollama hands templates tool-call arguments as a Go map, so earlier calls in a conversation are",
    "# re-rendered with their keys in alphabetical order.",
    "FROM ./model.gguf",
    `TEMPLATE """${tripleQuoted(ollamaTemplate(input.format, input.tools), "the generated TEMPLATE")}"""`,
  ];
  if (input.systemPrompt && input.format.systemTurn)
    lines.push(`SYSTEM """${tripleQuoted(input.systemPrompt, "the system prompt")}"""`);
  for (const stop of input.stop) lines.push(`PARAMETER stop ${modelfileValue(stop)}`);
  lines.push(`PARAMETER temperature ${input.temperature}`, `PARAMETER num_ctx ${input.contextSize}`);
  return `${lines.join("\n")}\n`;
}

/**
 * The Go template. Every action trims the whitespace before it; emitted newlines are string constants.
 * The chat template's prefix (Gemma's BOS token) is left out: Ollama adds the BOS token itself
 * when the GGUF asks for it, as llama.cpp does.
 */
export function ollamaTemplate(format: HermesFormat, tools: readonly FunctionTool[]): string {
  const s = goString;
  const { start, end, assistant } = format.turns;
  const nl = `{{ ${s("\n")} }}`;
  const systemTurn =
    format.defaultSystem !== undefined
      ? `{{- if $hasSys }}${start}system${nl}{{ $sys }}{{ else }}${start}system${nl}{{ ${s(format.defaultSystem)} }}{{ end }}${end}${nl}`
      : `{{- if $hasSys }}${start}system${nl}{{ $sys }}${end}${nl}{{ end }}`;
  const head =
    format.toolList === "none"
      ? [systemTurn]
      : [
          `{{- if .Tools }}${start}system${nl}{{ if $hasSys }}{{ $sys }}{{ else }}{{ ${s(format.toolsDefaultSystem)} }}{{ end }}{{ ${s(format.toolsHeader)} }}`,
          "{{- range .Tools }}" + nl,
          ...tools.map(
            (t, i) =>
              `{{- ${i === 0 ? "if" : "else if"} eq .Function.Name ${s(t.function.name)} }}{{ ${s(pyJson(t))} }}`,
          ),
          `{{- ${tools.length > 0 ? "else" : "if true"} }}${untrainedJsonLine()}{{ end }}`,
          "{{- end }}",
          `{{- ${s(format.toolsFooter)} }}${end}${nl}`,
          "{{- else }}",
          systemTurn,
          "{{- end }}",
        ];
  return [
    '{{- $sys := "" }}',
    "{{- $hasSys := false }}",
    ...(format.systemTurn
      ? [
          '{{- if .Messages }}{{ with index .Messages 0 }}{{ if eq .Role "system" }}{{ $sys = .Content }}{{ $hasSys = true }}{{ end }}{{ end }}{{ end }}',
        ]
      : []),
    ...head,
    '{{- $prev := "" }}',
    "{{- range $i, $m := .Messages }}",
    "{{- $last := eq (len (slice $.Messages $i)) 1 }}",
    '{{- $next := "" }}{{ if not $last }}{{ with index (slice $.Messages $i) 1 }}{{ $next = .Role }}{{ end }}{{ end }}',
    format.laterSystemTurns
      ? `{{- if eq .Role "system" }}{{ if ne $i 0 }}${start}system${nl}{{ .Content }}${end}${nl}{{ end }}`
      : '{{- if eq .Role "system" }}',
    `{{- else if eq .Role "user" }}${start}user${nl}{{ .Content }}${end}${nl}`,
    `{{- else if eq .Role "assistant" }}${start}${assistant}`,
    "{{- $calls := len .ToolCalls }}",
    `{{- if $calls }}{{ if .Content }}${nl}{{ .Content }}{{ end }}{{ else }}${nl}{{ .Content }}{{ end }}`,
    // Ollama finds the call tag (to parse calls out of the model's output) as the first text inside
    // the first `if .ToolCalls`, so the tag is literal text here, not a string constant.
    `{{- if .ToolCalls }}{{ range .ToolCalls }}\n${TOOL_CALL_OPEN}\n{"name": "{{ .Function.Name }}", "arguments": ` +
      `${goJsonObject(".Function.Arguments", new Counter(), ARGUMENT_DEPTH)}}\n${TOOL_CALL_CLOSE}{{ end }}{{ end }}`,
    `{{- if not $last }}${end}${nl}{{ end }}`,
    '{{- else if eq .Role "tool" }}',
    `{{- if ne $prev "tool" }}${start}user{{ end }}{{ ${s(`\n${TOOL_RESPONSE_OPEN}\n`)} }}{{ .Content }}{{ ${s(`\n${TOOL_RESPONSE_CLOSE}`)} }}`,
    `{{- if ne $next "tool" }}${end}${nl}{{ end }}`,
    "{{- end }}",
    `{{- if and $last (ne .Role "assistant") }}${start}${assistant}${nl}{{ end }}`,
    "{{- $prev = .Role }}",
    "{{- end }}",
  ].join("\n");
}

function untrainedJsonLine(): string {
  return `{{ ${goString('{"type": "function", "function": ')} }}{{ json .Function }}{{ ${goString("}")} }}`;
}

class Counter {
  private n = 0;
  next(): number {
    return ++this.n;
  }
}

/**
 * Go template code writing a map as `tojson` does (", " and ": ", keys in the map's order, which
 * for Go maps is sorted). Templates cannot recurse in every Ollama version, so nesting is unrolled
 * to `depth` levels; deeper values fall back to Ollama's compact `json`.
 */
function goJsonObject(expr: string, ids: Counter, depth: number): string {
  const id = ids.next();
  const [first, key, value] = [`$f${id}`, `$k${id}`, `$v${id}`];
  return (
    `{{ "{" }}{{ ${first} := true }}{{ range ${key}, ${value} := ${expr} }}{{ if not ${first} }}{{ ", " }}{{ end }}{{ ${first} = false }}` +
    `{{ json ${key} }}{{ ": " }}${goJsonValue(value, ids, depth - 1)}{{ end }}{{ "}" }}`
  );
}

function goJsonValue(expr: string, ids: Counter, depth: number): string {
  if (depth <= 0) return `{{ json ${expr} }}`;
  const id = ids.next();
  const [index, item] = [`$i${id}`, `$x${id}`];
  return (
    `{{ if eq (printf "%T" ${expr}) "map[string]interface {}" }}${goJsonObject(expr, ids, depth)}` +
    `{{ else if eq (printf "%T" ${expr}) "[]interface {}" }}{{ "[" }}{{ range ${index}, ${item} := ${expr} }}{{ if ${index} }}{{ ", " }}{{ end }}` +
    `${goJsonValue(item, ids, depth - 1)}{{ end }}{{ "]" }}{{ else }}{{ json ${expr} }}{{ end }}`
  );
}

/**
 * A Go string constant holding only printable ASCII: Ollama's Modelfile parser drops
 * non-printable characters, and `"""` would end the TEMPLATE early.
 */
export function goString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (code >= 0x20 && code < 0x7f) out += ch;
    else if (code >= 0xd800 && code <= 0xdfff) out += "\\ufffd";
    else if (code > 0xffff) out += `\\U${code.toString(16).padStart(8, "0")}`;
    else out += `\\u${code.toString(16).padStart(4, "0")}`;
  }
  return `${out}"`;
}

function tripleQuoted(text: string, what: string): string {
  if (text.includes('"""')) {
    throw badInput(
      `${what} contains """, which ends a Modelfile value early`,
      "remove the triple quote from the training system prompt",
    );
  }
  return text;
}

/** Quotes a value as Ollama's own Modelfile writer does; its parser strips quotes without unescaping. */
function modelfileValue(value: string): string {
  if (!value.includes("\n") && !value.startsWith(" ") && !value.endsWith(" ")) return value;
  return value.includes('"') ? `"""${tripleQuoted(value, "a stop sequence")}"""` : `"${value}"`;
}
