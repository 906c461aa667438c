import { Environment, Interpreter, Template } from "@huggingface/jinja";

import { foldToolLoops } from "./template-fold.js";
import type { ChatMessage, FunctionTool } from "./types.js";

export interface TemplateTokens {
  bosToken: string;
  eosToken: string;
}

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** The `strftime_now` that Hugging Face passes to chat templates, for the directives templates use. */
function strftimeNow(format: string, now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  const month = MONTHS[now.getMonth()] ?? "";
  const table: Record<string, string> = {
    d: pad(now.getDate()),
    m: pad(now.getMonth() + 1),
    Y: String(now.getFullYear()),
    y: pad(now.getFullYear() % 100),
    b: month.slice(0, 3),
    B: month,
    H: pad(now.getHours()),
    M: pad(now.getMinutes()),
    S: pad(now.getSeconds()),
    "%": "%",
  };
  return format.replace(/%([a-zA-Z%])/g, (all, d: string) => table[d] ?? all);
}

function range(start: number, stop?: number, step = 1): number[] {
  const [from, to] = stop === undefined ? [0, start] : [start, stop];
  if (step === 0) throw new Error("range() step must not be zero");
  const out: number[] = [];
  for (let i = from; step > 0 ? i < to : i > to; i += step) out.push(i);
  return out;
}

/** The globals Jinja and transformers give every chat template. */
const GLOBALS: Record<string, unknown> = {
  false: false,
  true: true,
  none: null,
  False: false,
  True: true,
  None: null,
  raise_exception: (message: string) => {
    throw new Error(message);
  },
  range,
  strftime_now: strftimeNow,
};

type RuntimeValue = NonNullable<ReturnType<Environment["lookupVariable"]>>;

/**
 * A model's own chat template, rendered the way `tokenizer.apply_chat_template` renders it in
 * training: messages with tool calls whose arguments are objects, tools as OpenAI function
 * objects, `add_generation_prompt`, and the special tokens the template refers to.
 */
export class ChatTemplate {
  private readonly template: Template;
  /**
   * Per tools array: the tools as template values, and the program with the loops that render
   * them already rendered. Converting and rendering the tools is most of a render's cost.
   */
  private readonly perToolset = new WeakMap<
    readonly FunctionTool[],
    { value: RuntimeValue; program: Template["parsed"] }
  >();

  constructor(
    readonly source: string,
    private readonly tokens: TemplateTokens,
  ) {
    this.template = new Template(source);
  }

  /** `extra`: further template variables, as keyword arguments to apply_chat_template (e.g. date_string). */
  render(
    messages: readonly ChatMessage[],
    tools: readonly FunctionTool[],
    addGenerationPrompt = true,
    extra: Record<string, unknown> = {},
  ): string {
    const env = new Environment();
    const variables: Record<string, unknown> = {
      ...GLOBALS,
      ...extra,
      messages: messages.map(toTemplateMessage),
      add_generation_prompt: addGenerationPrompt,
      bos_token: this.tokens.bosToken,
      eos_token: this.tokens.eosToken,
    };
    for (const [name, value] of Object.entries(variables)) env.set(name, value);
    if (tools.length === 0) return (new Interpreter(env).run(this.template.parsed) as { value: string }).value;
    const toolset = this.toolset(tools);
    env.variables.set("tools", toolset.value);
    return (new Interpreter(env).run(toolset.program) as { value: string }).value;
  }

  private toolset(tools: readonly FunctionTool[]): { value: RuntimeValue; program: Template["parsed"] } {
    let toolset = this.perToolset.get(tools);
    if (!toolset) {
      const value = new Environment().set("tools", tools);
      toolset = { value, program: foldToolLoops(this.template.parsed, value) };
      this.perToolset.set(tools, toolset);
    }
    return toolset;
  }
}

function toTemplateMessage(message: ChatMessage): Record<string, unknown> {
  const out: Record<string, unknown> = { role: message.role, content: message.content };
  if (message.tool_calls && message.tool_calls.length > 0) out.tool_calls = message.tool_calls;
  if (message.tool_call_id !== undefined) out.tool_call_id = message.tool_call_id;
  if (message.name !== undefined) out.name = message.name;
  return out;
}
