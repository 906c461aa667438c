import { Template } from "@huggingface/jinja";
import type { ChatMessage, FunctionTool } from "./types.js";

export interface TemplateTokens {
  bosToken: string;
  eosToken: string;
}

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

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

/**
 * A model's own chat template, rendered the way `tokenizer.apply_chat_template` renders it in
 * training: messages with tool calls whose arguments are objects, tools as OpenAI function
 * objects, `add_generation_prompt`, and the special tokens the template refers to.
 */
export class ChatTemplate {
  private readonly template: Template;

  constructor(
    readonly source: string,
    private readonly tokens: TemplateTokens,
  ) {
    this.template = new Template(source);
  }

  render(messages: readonly ChatMessage[], tools: readonly FunctionTool[], addGenerationPrompt = true): string {
    return this.template.render({
      messages: messages.map(toTemplateMessage),
      tools: tools.length > 0 ? tools : undefined,
      add_generation_prompt: addGenerationPrompt,
      bos_token: this.tokens.bosToken,
      eos_token: this.tokens.eosToken,
      strftime_now: strftimeNow,
    });
  }
}

function toTemplateMessage(message: ChatMessage): Record<string, unknown> {
  const out: Record<string, unknown> = { role: message.role, content: message.content };
  if (message.tool_calls && message.tool_calls.length > 0) out.tool_calls = message.tool_calls;
  if (message.tool_call_id !== undefined) out.tool_call_id = message.tool_call_id;
  if (message.name !== undefined) out.name = message.name;
  return out;
}
