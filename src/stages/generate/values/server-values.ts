import { singular } from "../wording/phrasing.js";
import { type ParamKind, snakeCase } from "./param-kind.js";

const MAX_PER_LIST = 200;
const MAX_KEYS = 200;
const MAX_VALUE_LENGTH = 120;

/** Absolute paths in free text. */
const PATH_IN_TEXT = /(?:^|[\s"'([:,])(\/[A-Za-z0-9._/-]*[A-Za-z0-9_-])/g;
/**
 * Directory listings in the common "[FILE] name" / "[DIR] name" form. A name ends before a size
 * column ("README.md   10 B", "a b.txt 1.2 KB") or a parenthesised note.
 */
const LISTED = /^\s*\[(FILE|DIR)\]\s+(.+?)(?:\s{2,}.*|\s+\d[\d.,]*\s*(?:[KMGTP]i?B|B|bytes)\b.*|\s+\(.*)?\s*$/gm;
/** A line of `git branch` output: "* main", "  feature/login", "  remotes/origin/main". */
const BRANCH_LINE = /^[*+ ]\s*([\w./-]+)\s*$/gm;
const HAS_EXTENSION = /\.[A-Za-z0-9]{1,8}$/;
const CREATE_TABLE = /CREATE TABLE\s+(?:IF NOT EXISTS\s+)?["`[]?(\w+)["`\]]?\s*\(([^;]*?)\)\s*(?:;|$)/gi;

/**
 * "names" and "entityName" both look up "name"; "entities" looks up "entity", "addresses" "address": the
 * singular an array parameter's items are drawn under (schema-args.ts).
 */
function keyOf(name: string): string {
  return singular(snakeCase(name));
}

export type Primitive = string | number;

/**
 * Values a live server has shown: the roots it may touch, directories and files it listed, field
 * values of its JSON answers by field name, tables and columns, and values an error named as allowed.
 */
export class ServerValues {
  readonly roots: string[] = [];
  readonly dirs: string[] = [];
  readonly files: string[] = [];
  readonly tables = new Map<string, string[]>();
  private readonly byKey = new Map<string, Primitive[]>();
  private readonly allowed = new Map<string, Primitive[]>();

  /** How many values are known, for the discovery report. */
  get size(): number {
    let n = this.roots.length + this.dirs.length + this.files.length + this.tables.size;
    for (const list of this.byKey.values()) n += list.length;
    for (const list of this.allowed.values()) n += list.length;
    return n;
  }

  addRoot(path: string): void {
    if (!isPath(path)) return;
    push(this.roots, path);
    push(this.dirs, path);
  }

  /** Paths outside known roots are left out: a file's text can name any path, the server serves only its roots. */
  addPath(path: string, type: "file" | "dir"): void {
    if (!isPath(path) || !this.insideRoots(path)) return;
    push(type === "file" ? this.files : this.dirs, path);
  }

  private insideRoots(path: string): boolean {
    return (
      this.roots.length === 0 || this.roots.some((r) => path === r || path.startsWith(`${r.replace(/\/+$/, "")}/`))
    );
  }

  /**
   * Learns from a successful answer; `args` are the call's arguments (a listed name is joined to the
   * directory it names). A value the call itself passed is not taken from the answer: an answer
   * that echoes it ("x.txt: no such file", {"timezone": …}) shows nothing about it.
   */
  harvest(text: string, args: Record<string, unknown>, toolName = ""): void {
    const dir = Object.values(args).find((v): v is string => typeof v === "string" && v.startsWith("/"));
    const given = new Set(
      Object.values(args)
        .flat()
        .filter((v) => typeof v === "string" || typeof v === "number")
        .map(String),
    );
    const json = parseJson(text);
    if (json !== undefined) this.walk(json, "", dir, given);
    else {
      const asRoots = /allowed|roots?\b/i.test(toolName);
      for (const match of text.matchAll(PATH_IN_TEXT)) {
        const path = match[1]!;
        if (given.has(path)) continue;
        if (asRoots) this.addRoot(path);
        else this.addPath(path, HAS_EXTENSION.test(path) ? "file" : "dir");
      }
      if (/branch/i.test(toolName)) {
        for (const m of text.matchAll(BRANCH_LINE)) push(this.keyedList("branch"), m[1]!);
      }
      if (dir) {
        for (const m of text.matchAll(LISTED))
          this.addPath(`${dir.replace(/\/+$/, "")}/${m[2]!.trim()}`, m[1] === "DIR" ? "dir" : "file");
      }
    }
    for (const m of text.matchAll(CREATE_TABLE)) {
      const columns = m[2]!
        .split(",")
        .map((c) =>
          c
            .trim()
            .split(/\s+/)[0]!
            .replace(/["`[\]]/g, ""),
        )
        .filter((c) => /^\w+$/.test(c) && !/^(PRIMARY|FOREIGN|UNIQUE|CHECK|CONSTRAINT)$/i.test(c));
      if (this.tables.size < MAX_KEYS) this.tables.set(m[1]!, columns);
    }
  }

  /**
   * Learns from an error answer: values it names as allowed (for the parameter it names, or the one
   * whose value it quotes), and directories it names as allowed. True when something new was learned.
   */
  learnFromError(toolName: string, args: Record<string, unknown>, text: string): boolean {
    const before = this.size;
    const values = allowedValuesIn(text).filter((v) => !Object.values(args).includes(v));
    if (values.length > 0) {
      const param = paramNamedBy(text, args);
      if (param) this.allowed.set(`${toolName}\u0000${param}`, values.slice(0, MAX_PER_LIST));
    }
    if (/\b(allowed|permitted|accessible)\b/i.test(text)) {
      const given = new Set(Object.values(args).filter((v): v is string => typeof v === "string"));
      for (const match of text.matchAll(PATH_IN_TEXT)) if (!given.has(match[1]!)) this.addRoot(match[1]!);
    }
    return this.size > before;
  }

  /** The values an error of this tool named as the only ones allowed for this parameter. */
  allowedFor(toolName: string, param: string): Primitive[] | undefined {
    return this.allowed.get(`${toolName}\u0000${param}`);
  }

  /**
   * Values for a parameter: what an error named as allowed, else what the server showed for this
   * kind of parameter (directories for listing tools, files for reading ones, field values under
   * the parameter's own name, or under the name of the nested field being drawn).
   */
  valuesFor(toolName: string, param: string, kind: ParamKind | undefined, field = param): Primitive[] {
    const allowed = this.allowedFor(toolName, param);
    if (allowed) return allowed;
    switch (kind) {
      case "dir":
        return this.dirs;
      case "repo":
        return this.roots;
      case "path":
        if (/list|tree|dir|folder|search|find|walk/i.test(toolName)) return this.dirs;
        if (/info|stat|exists|meta/i.test(toolName)) return [...this.files, ...this.dirs];
        return this.files;
      case "glob":
        return [
          ...new Set(
            this.files.map((f) => f.match(/\.([A-Za-z0-9]{1,8})$/)?.[1]).filter((e): e is string => e !== undefined),
          ),
        ].map((e) => `*.${e}`);
      case "gitref":
        return this.keyed(["branch", "ref", "tag"]);
      case "id":
        return this.keyed([keyOf(field), "id"]);
      case "query":
        return this.keyed([keyOf(field), "name", "title"]);
      default:
        return this.keyed([keyOf(field)]);
    }
  }

  /** Field values under any of the keys, or under a key the parameter's name ends with ("entityName" → "name"). */
  private keyed(keys: string[]): Primitive[] {
    for (const key of keys) {
      const exact = this.byKey.get(key);
      if (exact && exact.length > 0) return exact;
    }
    const first = keys[0]!;
    for (const [key, list] of this.byKey)
      if (key.length >= 3 && first.endsWith(`_${key}`) && list.length > 0) return list;
    return [];
  }

  private keyedList(key: string): Primitive[] {
    const list = this.byKey.get(key) ?? [];
    this.byKey.set(key, list);
    return list;
  }

  private walk(node: unknown, key: string, dir: string | undefined, given: ReadonlySet<string>): void {
    if (Array.isArray(node)) {
      if (dir && node.length > 0 && node.every(isTreeNode)) return this.walkTree(node, dir);
      for (const item of node) this.walk(item, keyOf(key), dir, given);
      return;
    }
    if (typeof node === "object" && node !== null) {
      for (const [k, v] of Object.entries(node)) this.walk(v, k, dir, given);
      return;
    }
    if ((typeof node === "string" || typeof node === "number") && key) {
      const text = String(node);
      if (given.has(text) || text.length === 0 || text.length > MAX_VALUE_LENGTH || text.includes("\n")) return;
      if (typeof node === "string" && isPath(node)) this.addPath(node, HAS_EXTENSION.test(node) ? "file" : "dir");
      const k = keyOf(key);
      if (!this.byKey.has(k) && this.byKey.size >= MAX_KEYS) return;
      push(this.keyedList(k), node);
      if (
        /^(table|table_name)$/.test(k) &&
        typeof node === "string" &&
        !this.tables.has(node) &&
        this.tables.size < MAX_KEYS
      )
        this.tables.set(node, []);
    }
  }

  /** A JSON directory tree ({ name, type, children }) under `dir`. */
  private walkTree(nodes: TreeNode[], dir: string): void {
    for (const node of nodes) {
      const path = `${dir.replace(/\/+$/, "")}/${node.name}`;
      const isDir = /^dir/.test(node.type ?? "") || Array.isArray(node.children);
      this.addPath(path, isDir ? "dir" : "file");
      if (Array.isArray(node.children) && node.children.every(isTreeNode)) this.walkTree(node.children, path);
    }
  }
}

interface TreeNode {
  name: string;
  type?: string;
  children?: unknown[];
}

const isTreeNode = (v: unknown): v is TreeNode =>
  typeof v === "object" &&
  v !== null &&
  typeof (v as TreeNode).name === "string" &&
  (typeof (v as TreeNode).type === "string" || Array.isArray((v as TreeNode).children));

const isPath = (p: string) =>
  p.startsWith("/") && p.length > 1 && p.length <= 200 && !p.includes("..") && !/\s$/.test(p);

function push<T>(list: T[], value: T): void {
  if (list.length < MAX_PER_LIST && !list.includes(value)) list.push(value);
}

function parseJson(text: string): unknown {
  const t = text.trim();
  if (!/^[[{]/.test(t)) return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}

const LIST_SEPARATOR = /\s*(?:,|\||\bor\b|\band\b)\s*/;

/**
 * Values an error message lists as allowed: zod's "Expected 'a' | 'b'", "must be one of: a, b",
 * "valid options are [a, b]", "available tables: a, b", "known ids: a, b".
 */
export function allowedValuesIn(text: string): string[] {
  const out: string[] = [];
  const expected = text.match(/expected\s+((?:['"][^'"\n]+['"]\s*(?:\||,|or)\s*)+['"][^'"\n]+['"])/i);
  if (expected) for (const m of expected[1]!.matchAll(/['"]([^'"\n]+)['"]/g)) out.push(m[1]!);
  const listed = text.match(
    /(?:must be one of|one of|valid (?:values|options|choices)(?: are)?|allowed(?: values)?(?: are)?|available(?: \w+)?(?: are)?|known(?: \w+)?(?: are)?|choose from|supported(?: \w+)?(?: are)?)\s*:?\s*\[?([^\]\n]+)/i,
  );
  if (listed && out.length === 0) {
    for (const part of listed[1]!.replace(/\.\s*$/, "").split(LIST_SEPARATOR)) {
      const value = part.trim().replace(/^['"`]|['"`]$/g, "");
      if (value.length > 0 && value.length <= 60 && !/\s{2,}/.test(value)) out.push(value);
    }
  }
  return [...new Set(out)].slice(0, 50);
}

/** The parameter an error is about: one it names, else the one whose value it quotes, else the only one. */
function paramNamedBy(text: string, args: Record<string, unknown>): string | undefined {
  const keys = Object.keys(args);
  const named = keys.find((k) => new RegExp(`\\b${k.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`, "i").test(text));
  if (named) return named;
  const quoted = keys.find(
    (k) =>
      (typeof args[k] === "string" || typeof args[k] === "number") &&
      String(args[k]).length > 0 &&
      text.includes(String(args[k])),
  );
  if (quoted) return quoted;
  return keys.length === 1 ? keys[0] : undefined;
}
