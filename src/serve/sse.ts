import type { ServerResponse } from "node:http";

import type { ReplyEvent } from "./reply-stream.js";
import { completionId, type FinishReason, toolCallId, type Usage } from "./response.js";

/**
 * A streamed answer: `chat.completion.chunk` objects as server-sent events, in OpenAI's order —
 * the role, then content and tool-call deltas as the model writes them (each call's id, type and
 * name first, then pieces of its arguments), the finish reason, usage when asked for, `[DONE]`.
 */
export class CompletionStream {
  private readonly id = completionId();
  private readonly created = Math.floor(Date.now() / 1000);

  constructor(
    private readonly res: ServerResponse,
    private readonly model: string,
    private readonly includeUsage: boolean,
  ) {}

  start(): void {
    this.res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    this.chunk({ role: "assistant", content: "", refusal: null });
  }

  readonly event = (event: ReplyEvent): void => {
    switch (event.kind) {
      case "content":
        return this.chunk({ content: event.text });
      case "call":
        return this.chunk({
          tool_calls: [
            {
              index: event.index,
              id: toolCallId(event.index),
              type: "function",
              function: { name: event.name, arguments: "" },
            },
          ],
        });
      case "arguments":
        return this.chunk({ tool_calls: [{ index: event.index, function: { arguments: event.text } }] });
    }
  };

  end(finishReason: FinishReason, usage: Usage): void {
    this.chunk({}, finishReason);
    if (this.includeUsage) this.send({ ...this.envelope(), choices: [], usage });
    if (!this.res.destroyed) this.res.end("data: [DONE]\n\n");
  }

  private chunk(delta: Record<string, unknown>, finishReason: FinishReason | null = null): void {
    this.send({
      ...this.envelope(),
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      ...(this.includeUsage ? { usage: null } : {}),
    });
  }

  private envelope() {
    return {
      id: this.id,
      object: "chat.completion.chunk",
      created: this.created,
      model: this.model,
      system_fingerprint: null,
    };
  }

  private send(value: unknown): void {
    if (!this.res.destroyed) this.res.write(`data: ${JSON.stringify(value)}\n\n`);
  }
}
