import type { Command } from "commander";

import { checkSharedOptionBounds } from "../cli/bounds.js";
import { globalOptions } from "../cli/options.js";
import type { Output } from "../cli/output.js";
import { ExitCode } from "../core/contract.js";

/**
 * What a stage function returns: its exit code when it ends without an error but not ok (a failed
 * quality gate), nothing when it passed. Errors it cannot go on from it throws (a `ForgeError`
 * carries its exit code); the CLI entry (`main`) turns either into the process's exit code.
 */
export type StageResult = ExitCode | void;

/**
 * A command's work: its parsed options (the command's positional arguments among them, by name)
 * and where its text goes. The CLI calls it through the command's action; `run` calls it for each
 * stage with its own output.
 */
export type StageFunction<O> = (options: O, output: Output) => Promise<StageResult>;

/** The output a command's stage function gets instead of its own (`run` sets it), by root command. */
const outputs = new WeakMap<Command, Output>();
/** The exit code the stage function of a command under this root returned, when not ok. */
const results = new WeakMap<Command, number>();

function rootOf(command: Command): Command {
  let root = command;
  while (root.parent) root = root.parent;
  return root;
}

/** Makes `stage` the action of `command`: the stage function receives the options and the output. */
export function stageAction<O>(command: Command, stage: StageFunction<O>): Command {
  return command.action(async (...args: unknown[]) => {
    const self = args[args.length - 1] as Command;
    const opts = args[args.length - 2] as Record<string, unknown>;
    const positional = Object.fromEntries(self.registeredArguments.map((a, i) => [a.name(), args[i]]));
    const root = rootOf(self);
    const output = outputs.get(root) ?? globalOptions(opts).output;
    const code = await stage({ ...opts, ...positional } as O, output);
    if (typeof code === "number" && code !== ExitCode.ok) results.set(root, code);
  });
}

/** The exit code the stage function that ran under `program` returned (ok when it returned none). */
export function stageExitCode(program: Command): number {
  return results.get(program) ?? ExitCode.ok;
}

/**
 * Runs a stage command on `args` (the words after its name) in this process, its text going to
 * `output`, and returns its exit code; it throws what the stage throws (a `ForgeError`, a
 * `CommanderError` for arguments it refuses). What `run` does for each stage.
 */
export async function callStage(command: Command, args: readonly string[], output: Output): Promise<number> {
  const exitOverride = (c: Command) => {
    c.exitOverride();
    c.commands.forEach(exitOverride);
  };
  exitOverride(command);
  command.hook("preAction", (_command, action) => checkSharedOptionBounds(action.opts()));
  outputs.set(command, output);
  await command.parseAsync([...args], { from: "user" });
  return stageExitCode(command);
}
