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

/** File-system errors about a path the user chose, which another path fixes: bad input (exit 2), told in words. */
export const PATH_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: "no such file or folder",
  ENOTDIR: "a part of the path is a file, not a folder",
  EISDIR: "it is a folder, not a file",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "the file system is read-only",
  ELOOP: "too many symbolic links",
  ENAMETOOLONG: "the name is too long",
  EEXIST: "a file is in the way",
};
