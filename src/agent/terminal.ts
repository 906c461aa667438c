import { createInterface, type Interface } from "node:readline/promises";

import { printable } from "../core/untrusted-text.js";
import type { Confirm } from "./confirming-executor.js";

/**
 * The user's side of the agent: lines typed (or piped) on stdin, and y/N questions. Questions
 * are asked only on a terminal; with stdin piped the answer is no, so a script never runs a
 * write tool by accident.
 */
export class Terminal {
  private rl: Interface | undefined;
  readonly interactive: boolean;

  constructor(
    private readonly input: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin,
    private readonly output: NodeJS.WritableStream = process.stderr,
  ) {
    this.interactive = input.isTTY === true;
  }

  /** Lines from stdin, one per user message, until EOF (Ctrl-D) or "/exit". */
  async *lines(prompt: string): AsyncGenerator<string> {
    const rl = this.readline();
    rl.setPrompt(prompt);
    if (this.interactive) rl.prompt();
    for await (const line of rl) {
      const text = line.trim();
      if (text === "/exit" || text === "/quit") return;
      if (text !== "") yield text;
      if (this.interactive) rl.prompt();
    }
  }

  readonly confirm: Confirm = async (question) => {
    const shown = printable(question);
    if (!this.interactive) {
      this.output.write(
        `${shown}\nno: stdin is not a terminal, so calls that are not read-only are declined (pass --yes to allow them)\n`,
      );
      return false;
    }
    const answer = await this.readline().question(shown);
    return /^\s*y(es)?\s*$/i.test(answer);
  };

  close(): void {
    this.rl?.close();
    this.rl = undefined;
  }

  private readline(): Interface {
    if (!this.rl) {
      this.rl = createInterface({ input: this.input, output: this.output, terminal: this.interactive });
      // readline takes Ctrl-C from the terminal; pass it on so the shutdown handlers run.
      this.rl.on("SIGINT", () => process.kill(process.pid, "SIGINT"));
    }
    return this.rl;
  }
}
