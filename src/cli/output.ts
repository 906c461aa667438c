/**
 * Where a command's words go. With `--json` the machine-readable result is the only thing on
 * stdout and human text moves to stderr, so `mcp-forge x --json | jq` always works.
 */
export interface Output {
  readonly json: boolean;
  /** Human text: stdout normally, stderr under --json. */
  say(text: string): void;
  /** Progress and warnings: always stderr. */
  info(text: string): void;
  /** The command's result: printed as JSON under --json, ignored otherwise. */
  result(value: unknown): void;
}

export function makeOutput(json: boolean): Output {
  return {
    json,
    say: (text) => (json ? process.stderr : process.stdout).write(`${text}\n`),
    info: (text) => process.stderr.write(`${text}\n`),
    result: (value) => {
      if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
  };
}
