import { Template } from "@huggingface/jinja";
import type { ChatMessage, FunctionTool } from "./types.js";

export interface TemplateTokens {
  bosToken: string;
  eosToken: string;
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

  /** `extra`: further template variables, as keyword arguments to apply_chat_template (e.g. date_string). */
  render(
    messages: readonly ChatMessage[],
    tools: readonly FunctionTool[],
    addGenerationPrompt = true,
    extra: Record<string, unknown> = {},
  ): string {
    return this.template.render({
      ...extra,
      messages: messages.map(toTemplateMessage),
      tools: tools.length > 0 ? tools : undefined,
      add_generation_prompt: addGenerationPrompt,
      bos_token: this.tokens.bosToken,
      eos_token: this.tokens.eosToken,
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
