import { badInput } from "../../core/errors.js";
import { hermesFormat } from "./hermes.js";
import { llama3JsonFormat } from "./llama3.js";
import type { CallFormat } from "./types.js";

export type { CallFormat, ParsedOutput } from "./types.js";
export { hermesFormat, llama3JsonFormat };

/** The call format a chat template defines, read from how it renders assistant tool calls. */
export function callFormatForTemplate(template: string, where: string): CallFormat {
  if (template.includes("<tool_call>")) return hermesFormat;
  if (template.includes('"parameters"') && template.includes("<|start_header_id|>")) return llama3JsonFormat;
  throw badInput(
    `${where}: the chat template renders tool calls in a format MCP-Forge cannot parse`,
    "supported: Hermes-style <tool_call>{…}</tool_call> (Qwen family) and Llama 3.x JSON calls",
  );
}
