import { basename, extname } from "node:path";

import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";

import { badInput } from "../../core/errors.js";
import { makeToolsFile, type ToolsFile } from "../../core/toolset.js";
import { type Problem, readShape, type ToolFormat } from "./shapes.js";
import { readSource, type SourceFile } from "./source.js";
import { toolProblems } from "./validate.js";

/** At most this many problems are listed; the rest are counted. */
const MAX_LISTED = 20;

export interface Imported {
  file: ToolsFile;
  format: ToolFormat;
  syntax: "json" | "yaml";
  sourceText: string;
}

/**
 * Reads a tools file in any accepted shape and returns the contract's tools.json. Every problem
 * (shape, names, schemas, duplicates) is collected and thrown as one exit-2 error, each line
 * naming the file, line and JSON pointer.
 */
export async function importTools(path: string): Promise<Imported> {
  const source = await readSource(path);
  const shape = readShape(source.value);
  const problems = [...shape.problems, ...toolProblems(shape.tools)];
  if (problems.length > 0) throw problemsError(source, problems);
  if (shape.tools.length === 0) throw badInput(`${path}: the file lists no tools`, "add at least one tool");
  const file = makeToolsFile({
    server: shape.server ?? { name: basename(path, extname(path)), version: "0.0.0" },
    protocolVersion: shape.protocolVersion ?? LATEST_PROTOCOL_VERSION,
    source: { kind: "file", file: path },
    tools: shape.tools.map((t) => t.tool),
  });
  return { file, format: shape.format, syntax: source.syntax, sourceText: source.text };
}

function problemsError(source: SourceFile, problems: Problem[]) {
  const located = problems.map((p) => ({ ...p, line: source.lineOf(p.pointer) }));
  located.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  const lines = located
    .slice(0, MAX_LISTED)
    .map((p) => `  ${source.path}${p.line ? `:${p.line}` : ""} ${p.pointer}: ${p.message}`);
  if (problems.length > MAX_LISTED) lines.push(`  … and ${problems.length - MAX_LISTED} more`);
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  return badInput(
    `${source.path}: ${count} in the tools file:\n${lines.join("\n")}`,
    "fix the file at the places listed and run the import again",
  );
}
