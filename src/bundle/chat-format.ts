import { Template } from "@huggingface/jinja";

import { badInput } from "../core/errors.js";
import { type TurnMarkers, turnMarkers } from "../models/tool-template.js";
import type { ChatMessage, FunctionTool } from "../models/types.js";

export interface TemplateTokens {
  bosToken: string;
  eosToken: string;
}

/** Renders a chat template as `tokenizer.apply_chat_template` does in training. */
export function renderChatTemplate(
  template: Template,
  tokens: TemplateTokens,
  messages: readonly ChatMessage[],
  tools: readonly FunctionTool[],
  addGenerationPrompt: boolean,
): string {
  return template.render({
    messages: messages as unknown as Record<string, unknown>[],
    tools: tools.length > 0 ? (tools as unknown as Record<string, unknown>[]) : undefined,
    add_generation_prompt: addGenerationPrompt,
    bos_token: tokens.bosToken,
    eos_token: tokens.eosToken,
  });
}

/**
 * The Hermes/Qwen2.5 chat format: turns in the model's own markers (ChatML's, or Gemma's in
 * mcp-forge's tool template for Gemma), the tools listed one a line in the system turn, calls as
 * `<tool_call>\n{"name": …, "arguments": …}\n</tool_call>` and results wrapped in
 * `<tool_response>` inside a user turn. The parts that vary between models are read from the
 * model's own template by rendering probe conversations.
 */
export interface HermesFormat {
  kind: "hermes";
  turns: TurnMarkers;
  /** Text before the first turn: the BOS token where the template renders it (Gemma's). */
  prefix: string;
  /** The system turn's text when a conversation without tools has no system message (Qwen2.5 has one). */
  defaultSystem?: string;
  /** The system prompt's place when tools are listed and the conversation has no system message. */
  toolsDefaultSystem: string;
  /** Whether a first system message is rendered (every template but the tiny model's). */
  systemTurn: boolean;
  /** Whether system messages after the first are rendered as system turns (Qwen2.5) or dropped. */
  laterSystemTurns: boolean;
  /**
   * How the tools are listed: one JSON line each (Qwen2.5), or "none": not at all (the tiny
   * model, which learns one server's tools by heart).
   */
  toolList: ToolListStyle;
  /** Text between the system prompt and the first tool's line. */
  toolsHeader: string;
  /** Text between the last tool's line and `<|im_end|>`. */
  toolsFooter: string;
}

export type ToolListStyle = "json" | "none";

export const SUPPORTED_FORMATS =
  "Hermes/Qwen2.5-style templates: ChatML turns (<|im_start|>…<|im_end|>) or Gemma's (<start_of_turn>…<end_of_turn>), tools as JSON lines in the system turn (or not listed), " +
  'calls as <tool_call>{"name": …, "arguments": …}</tool_call>, results as <tool_response> in a user turn';

export const TOOL_CALL_OPEN = "<tool_call>";
export const TOOL_CALL_CLOSE = "</tool_call>";
export const TOOL_RESPONSE_OPEN = "<tool_response>";
export const TOOL_RESPONSE_CLOSE = "</tool_response>";

/** JSON as the chat template's `tojson` writes it (Python's `json.dumps` spacing, keys in order). */
export function pyJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return `[${value.map(pyJson).join(", ")}]`;
  if (typeof value === "object") {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${JSON.stringify(k)}: ${pyJson(v)}`)
      .join(", ")}}`;
  }
  return JSON.stringify(value);
}

/** Renders a conversation the way a template in `format` does; used to check that it is one. */
export function renderHermes(
  format: HermesFormat,
  messages: readonly ChatMessage[],
  tools: readonly FunctionTool[],
  addGenerationPrompt: boolean,
): string {
  const { start, end, assistant } = format.turns;
  const first = messages[0];
  const system = first?.role === "system" && format.systemTurn ? first.content : undefined;
  let out = format.prefix;
  if (tools.length > 0 && format.toolList === "json") {
    const lines = tools.map((t) => `\n${pyJson(t)}`).join("");
    out += `${start}system\n${system ?? format.toolsDefaultSystem}${format.toolsHeader}${lines}${format.toolsFooter}${end}\n`;
  } else if ((system ?? format.defaultSystem) !== undefined) {
    out += `${start}system\n${system ?? format.defaultSystem}${end}\n`;
  }
  messages.forEach((m, i) => {
    if (m.role === "system") {
      if (i > 0 && format.laterSystemTurns) out += `${start}system\n${m.content}${end}\n`;
    } else if (m.role === "user") {
      out += `${start}user\n${m.content}${end}\n`;
    } else if (m.role === "assistant") {
      out += `${start}${assistant}${m.content || !m.tool_calls?.length ? `\n${m.content}` : ""}`;
      for (const call of m.tool_calls ?? []) {
        out += `\n${TOOL_CALL_OPEN}\n{"name": "${call.function.name}", "arguments": ${pyJson(call.function.arguments)}}\n${TOOL_CALL_CLOSE}`;
      }
      out += `${end}\n`;
    } else {
      if (messages[i - 1]?.role !== "tool") out += `${start}user`;
      out += `\n${TOOL_RESPONSE_OPEN}\n${m.content}\n${TOOL_RESPONSE_CLOSE}`;
      if (messages[i + 1]?.role !== "tool") out += `${end}\n`;
    }
  });
  if (addGenerationPrompt) out += `${start}${assistant}\n`;
  return out;
}

const PROBE_TOOLS: FunctionTool[] = [
  {
    type: "function",
    function: {
      name: "probe_alpha",
      description: "First probe tool",
      parameters: {
        type: "object",
        properties: {
          city: { type: "string" },
          days: { type: "integer" },
          tags: { type: "array", items: { type: "string" } },
        },
        required: ["city"],
      },
    },
  },
  {
    type: "function",
    function: { name: "probe_beta", description: "Second probe tool", parameters: { type: "object", properties: {} } },
  },
];

const PROBE_CONVERSATION: ChatMessage[] = [
  { role: "system", content: "PROBE-SYSTEM" },
  { role: "user", content: "PROBE-USER-1" },
  {
    role: "assistant",
    content: "PROBE-THINK",
    tool_calls: [
      { id: "c1", type: "function", function: { name: "probe_alpha", arguments: { city: "Paris", days: 3 } } },
      { id: "c2", type: "function", function: { name: "probe_beta", arguments: {} } },
    ],
  },
  { role: "tool", tool_call_id: "c1", name: "probe_alpha", content: '{"temp": 21}' },
  { role: "tool", tool_call_id: "c2", name: "probe_beta", content: "PROBE-RESULT-2" },
  { role: "assistant", content: "PROBE-ANSWER-1" },
  { role: "user", content: "PROBE-USER-2" },
  {
    role: "assistant",
    content: "",
    tool_calls: [
      {
        id: "c3",
        type: "function",
        function: { name: "probe_alpha", arguments: { city: "Oslo", tags: ["a", "b"], opt: { x: null, y: true } } },
      },
    ],
  },
  { role: "tool", tool_call_id: "c3", name: "probe_alpha", content: "PROBE-RESULT-3" },
];

/**
 * Reads a chat template's Hermes parts and proves the reading right: the template must render a
 * set of probe conversations (with and without system prompt and tools, parallel calls, tool
 * results, several turns) exactly as {@link renderHermes} does. Anything else is refused, with
 * the first place where the renderings differ.
 */
export function analyzeChatTemplate(source: string, tokens: TemplateTokens, where: string): HermesFormat {
  const turns = turnMarkers().find((m) => source.includes(m.start) && source.includes(m.end));
  if (!turns || !source.includes(TOOL_CALL_OPEN) || !source.includes(TOOL_RESPONSE_OPEN)) {
    throw unsupported(where, "it does not use ChatML's or Gemma's turn markers, <tool_call> and <tool_response>");
  }
  let template: Template;
  try {
    template = new Template(source);
  } catch (error) {
    throw badInput(`${where}: the chat template does not parse (${(error as Error).message})`);
  }
  const render = (messages: ChatMessage[], tools: FunctionTool[], generation = true) => {
    try {
      return renderChatTemplate(template, tokens, messages, tools, generation);
    } catch (error) {
      throw unsupported(where, `rendering a probe conversation failed (${(error as Error).message})`);
    }
  };
  const user: ChatMessage = { role: "user", content: "PROBE-USER-1" };
  const bare = render([user], []);
  const prefix = bare.slice(0, Math.max(0, bare.indexOf(turns.start)));
  if (prefix !== "" && prefix !== tokens.bosToken) {
    throw unsupported(
      where,
      `it renders ${JSON.stringify(prefix.slice(0, 40))} before the first turn, which is not the BOS token`,
    );
  }
  let defaultSystem: string | undefined;
  const systemOpen = `${prefix}${turns.start}system\n`;
  if (bare.startsWith(systemOpen)) {
    const end = bare.indexOf(`${turns.end}\n`);
    defaultSystem = end >= 0 ? bare.slice(systemOpen.length, end) : undefined;
  }
  const laterSystem: ChatMessage = { role: "system", content: "PROBE-SYSTEM-2" };
  const format: HermesFormat = {
    kind: "hermes",
    turns,
    prefix,
    ...(defaultSystem !== undefined ? { defaultSystem } : {}),
    systemTurn: render([PROBE_CONVERSATION[0]!, user], []).includes("PROBE-SYSTEM"),
    laterSystemTurns: render([...PROBE_CONVERSATION.slice(0, 2), laterSystem, user], []).includes(laterSystem.content),
    ...readToolList(render, systemOpen, turns, where),
  };
  const probes: Array<[ChatMessage[], FunctionTool[]]> = [
    [PROBE_CONVERSATION, PROBE_TOOLS],
    [PROBE_CONVERSATION.slice(1), PROBE_TOOLS],
    [PROBE_CONVERSATION.slice(0, 2), []],
    [[user], []],
    [[...PROBE_CONVERSATION.slice(0, 6), laterSystem, ...PROBE_CONVERSATION.slice(6)], PROBE_TOOLS],
  ];
  for (const [messages, tools] of probes) {
    const expected = renderHermes(format, messages, tools, true);
    const actual = render(messages, tools);
    if (expected !== actual) {
      const i = [...expected].findIndex((c, n) => actual[n] !== c);
      const index = i < 0 ? expected.length : i;
      throw unsupported(
        where,
        `it renders a probe conversation differently at character ${index}: expected ${JSON.stringify(expected.slice(index, index + 40))}, got ${JSON.stringify(actual.slice(index, index + 40))}`,
      );
    }
  }
  return format;
}

type ProbeRender = (messages: ChatMessage[], tools: FunctionTool[]) => string;

/** How and where the system turn lists the tools; "none" when passing tools changes nothing. */
function readToolList(
  render: ProbeRender,
  systemOpen: string,
  { start, end, assistant }: TurnMarkers,
  where: string,
): Pick<HermesFormat, "toolList" | "toolsHeader" | "toolsFooter" | "toolsDefaultSystem"> {
  const user: ChatMessage = { role: "user", content: "PROBE-USER-1" };
  const withTools = render([PROBE_CONVERSATION[0]!, user], PROBE_TOOLS);
  if (withTools === render([PROBE_CONVERSATION[0]!, user], []))
    return { toolList: "none", toolsHeader: "", toolsFooter: "", toolsDefaultSystem: "" };
  const head = `${systemOpen}PROBE-SYSTEM`;
  const toolLines = PROBE_TOOLS.map((t) => `\n${pyJson(t)}`).join("");
  const at = withTools.indexOf(toolLines);
  const tail = `${end}\n${start}user\nPROBE-USER-1${end}\n${start}${assistant}\n`;
  if (!withTools.startsWith(head) || at < 0 || !withTools.endsWith(tail)) {
    throw unsupported(where, "the system turn does not list the tools as JSON lines after the system prompt");
  }
  const toolsHeader = withTools.slice(head.length, at);
  const noSystem = render([user], PROBE_TOOLS);
  const headerAt = noSystem.indexOf(toolsHeader);
  if (!noSystem.startsWith(systemOpen) || headerAt < 0) {
    throw unsupported(where, "without a system message, the tools are not listed in a system turn");
  }
  return {
    toolList: "json",
    toolsHeader,
    toolsFooter: withTools.slice(at + toolLines.length, withTools.length - tail.length),
    toolsDefaultSystem: noSystem.slice(systemOpen.length, headerAt),
  };
}

function unsupported(where: string, why: string) {
  return badInput(
    `${where}: unsupported chat template format: ${why}`,
    `supported: ${SUPPORTED_FORMATS}. Train on a base model with such a template (e.g. Qwen2.5 Instruct) to pack an Ollama Modelfile`,
  );
}
