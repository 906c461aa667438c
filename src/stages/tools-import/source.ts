import { extname } from "node:path";

import { type Document, isNode, LineCounter, parseDocument } from "yaml";

import { badInput } from "../../core/errors.js";
import { readTextFile } from "../../core/files.js";
import { jsonSyntaxError, lineColumn } from "./json-syntax.js";

export type Syntax = "json" | "yaml";

/** A parsed tools file that can say which line a JSON pointer sits on. */
export interface SourceFile {
  path: string;
  syntax: Syntax;
  text: string;
  value: unknown;
  /** The 1-based line of the deepest node along `pointer` that exists, if it can be found. */
  lineOf(pointer: string): number | undefined;
}

/** Reads and parses a JSON or YAML file (by extension, else by content); syntax errors exit 2 with line and column. */
export async function readSource(path: string): Promise<SourceFile> {
  const text = await readTextFile(path, "tools file");
  const syntax = syntaxOf(path, text);
  const value = syntax === "json" ? parseJson(path, text) : parseYaml(path, text);
  return { path, syntax, text, value, lineOf: locator(text) };
}

function syntaxOf(path: string, text: string): Syntax {
  const ext = extname(path).toLowerCase();
  if (ext === ".yaml" || ext === ".yml") return "yaml";
  if (ext === ".json") return "json";
  return /^\s*[[{]/.test(text) ? "json" : "yaml";
}

function parseJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const found = jsonSyntaxError(text);
    if (!found) throw badInput(`${path}: not valid JSON (${(error as Error).message})`);
    const { line, column } = lineColumn(text, found.offset);
    throw badInput(
      `${path}:${line}:${column}: not valid JSON: ${found.message}`,
      "fix the JSON syntax at that line and column",
    );
  }
}

function parseYaml(path: string, text: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const error = doc.errors[0];
  if (error) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    throw badInput(
      `${path}:${line}:${col}: not valid YAML: ${error.message}`,
      "fix the YAML syntax at that line and column",
    );
  }
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // yaml refuses alias bombs (billion laughs) here: "Excessive alias count…".
    throw badInput(
      `${path}: not usable YAML: ${(error as Error).message}`,
      "expand the aliases (*name) by hand; a tools file needs few",
    );
  }
}

/** Finds lines for JSON pointers by reading the text as YAML, which also covers JSON. */
function locator(text: string): (pointer: string) => number | undefined {
  let parsed: { doc: Document; lines: LineCounter } | undefined;
  return (pointer) => {
    if (!parsed) {
      const lines = new LineCounter();
      parsed = { doc: parseDocument(text, { lineCounter: lines, uniqueKeys: false }), lines };
    }
    const path = pointer
      .split("/")
      .slice(1)
      .map((k) => k.replace(/~1/g, "/").replace(/~0/g, "~"));
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? parsed.doc.contents : parsed.doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return parsed.lines.linePos(node.range[0]).line;
    }
    return undefined;
  };
}
