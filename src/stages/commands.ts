import type { Command } from "commander";

/**
 * Every command of the CLI but `run`, in the order `--help` lists them after it; `run` calls the
 * pipeline's among them (src/stages/run/pipeline.ts). A command's module (and what it imports:
 * llama.cpp, the MCP SDK, ajv…) loads only when that command runs, or for the full help. `eager`
 * keeps ncc from splitting dist/cli into chunk files; the modules still run only when imported.
 */
export const COMMANDS = {
  doctor: async () => (await import(/* webpackMode: "eager" */ "./doctor/command.js")).doctorCommand(),
  inspect: async () => (await import(/* webpackMode: "eager" */ "./inspect/command.js")).inspectCommand(),
  tools: async () => (await import(/* webpackMode: "eager" */ "./tools-import/command.js")).toolsCommand(),
  generate: async () => (await import(/* webpackMode: "eager" */ "./generate/command.js")).generateCommand(),
  qa: async () => (await import(/* webpackMode: "eager" */ "./qa/command.js")).qaCommand(),
  train: async () => (await import(/* webpackMode: "eager" */ "./train/command.js")).trainCommand(),
  export: async () => (await import(/* webpackMode: "eager" */ "./export/command.js")).exportCommand(),
  status: async () => (await import(/* webpackMode: "eager" */ "./status/command.js")).statusCommand(),
  stub: async () => (await import(/* webpackMode: "eager" */ "./stub/command.js")).stubCommand(),
  validate: async () => (await import(/* webpackMode: "eager" */ "./validate/command.js")).validateCommand(),
  benchmark: async () => (await import(/* webpackMode: "eager" */ "./benchmark/command.js")).benchmarkCommand(),
  pack: async () => (await import(/* webpackMode: "eager" */ "./pack/command.js")).packCommand(),
  "verify-bundle": async () =>
    (await import(/* webpackMode: "eager" */ "./verify-bundle/command.js")).verifyBundleCommand(),
  agent: async () => (await import(/* webpackMode: "eager" */ "./agent/command.js")).agentCommand(),
  serve: async () => (await import(/* webpackMode: "eager" */ "./serve/command.js")).serveCommand(),
} satisfies Record<string, () => Promise<Command>>;
