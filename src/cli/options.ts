import { resolve } from "node:path";

import { Command, Option } from "commander";

import { makeOutput, type Output } from "./output.js";

export const DEFAULT_WORKDIR = ".mcp-forge";

export interface GlobalOptions {
  workdir: string;
  json: boolean;
  output: Output;
}

/** Adds the options every command shares: --workdir and --json. */
export function withCommonOptions(command: Command, options: { json?: boolean } = { json: true }): Command {
  command.addOption(new Option("-w, --workdir <dir>", "pipeline work directory").default(DEFAULT_WORKDIR));
  if (options.json !== false)
    command.option("--json", "machine-readable result on stdout; human text on stderr", false);
  return command;
}

export function globalOptions(opts: { workdir?: string; json?: boolean }): GlobalOptions {
  const json = Boolean(opts.json);
  return { workdir: resolve(opts.workdir ?? DEFAULT_WORKDIR), json, output: makeOutput(json) };
}

/** Collects a repeatable option into an array. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`;
}
