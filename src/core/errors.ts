/** Exit codes of the contract (docs/contract.md §2). */
export const ExitCode = {
  ok: 0,
  gateFailed: 1,
  badInput: 2,
  environment: 3,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

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
}

export const badInput = (message: string, hint?: string) =>
  new ForgeError(ExitCode.badInput, message, hint);

export const environmentMissing = (message: string, hint?: string) =>
  new ForgeError(ExitCode.environment, message, hint);

export const gateFailed = (message: string, hint?: string) =>
  new ForgeError(ExitCode.gateFailed, message, hint);
