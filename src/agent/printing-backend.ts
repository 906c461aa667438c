import type { CallFormat } from "../models/parsers/index.js";
import type { GenerateRequest, Generation, ModelBackend } from "../models/types.js";
import { ReplySplitter } from "../serve/reply-stream.js";
import { wireArguments } from "../serve/response.js";

/**
 * The model with the text of each turn written out as llama.cpp generates it, tool-call markup
 * held back, and a line break after a turn that said something.
 */
export class PrintingBackend implements ModelBackend {
  constructor(
    private readonly inner: ModelBackend,
    private readonly format: CallFormat,
    private readonly write: (text: string) => void,
  ) {}

  get id(): string {
    return this.inner.id;
  }

  get kind(): ModelBackend["kind"] {
    return this.inner.kind;
  }

  get constrained(): boolean {
    return this.inner.constrained;
  }

  async generate(request: GenerateRequest): Promise<Generation> {
    let said = false;
    const splitter = new ReplySplitter(
      this.format,
      (event) => {
        if (event.kind !== "content") return;
        said = true;
        this.write(event.text);
      },
      wireArguments,
    );
    const generation = await this.inner.generate({
      ...request,
      onText: (text) => {
        request.onText?.(text);
        splitter.push(text);
      },
    });
    splitter.finish(generation);
    if (said) this.write("\n");
    return generation;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
