import { ExitCode } from "./contract.js";

export { ExitCode };

/** An error a user can act on: what went wrong, where, and how to fix it. */
export class ForgeError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "ForgeError";
  }

  /** The lines a terminal shows: `error: …` and, when there is one, `hint: …`. */
  get report(): string {
    return `error: ${this.message}\n${this.hint ? `hint: ${this.hint}\n` : ""}`;
  }
}

export const badInput = (message: string, hint?: string) => new ForgeError(ExitCode.badInput, message, hint);

export const environmentMissing = (message: string, hint?: string) =>
  new ForgeError(ExitCode.environment, message, hint);

export const gateFailed = (message: string, hint?: string) => new ForgeError(ExitCode.gateFailed, message, hint);
