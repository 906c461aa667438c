/**
 * GBNF (llama.cpp grammar) for JSON values that satisfy a JSON Schema. Covers what tool schemas
 * use: objects with required and optional properties, arrays with item counts, enum, const,
 * anyOf/oneOf, type unions, local $ref, integers, numbers, strings with lengths. Keywords a
 * grammar cannot express (pattern, format other than date, numeric bounds, uniqueItems) are left
 * to the schema validator; the grammar only narrows what the model may write.
 *
 * Strings and arrays without maxLength/maxItems get a cap, and numbers a digit limit, so that
 * every value the grammar admits has a known longest length (`maxLength`): the generation budget
 * is raised to it, and a call always closes. Without the caps a weak model rambles inside a string
 * until the budget runs out and the call never parses.
 */

type Schema = Record<string, unknown>;

const PRIMITIVES: Record<string, string> = {
  ws: '" "?',
  "json-char": '[^"\\\\\\x00-\\x1f] | "\\\\" ["\\\\/bfnrt]',
  "json-number": '"-"? json-int-digits ("." [0-9]{1,15})? ([eE] [-+]? [0-9]{1,3})?',
  "json-int-digits": '"0" | [1-9] [0-9]{0,15}',
  "json-integer": '"-"? json-int-digits',
  "json-nonneg-integer": "json-int-digits",
  "json-boolean": '"true" | "false"',
  "json-null": '"null"',
  "json-value": "json-object | json-array | json-string | json-number | json-boolean | json-null",
  "json-object": '"{" ws ( json-string ws ":" ws json-value ( "," ws json-string ws ":" ws json-value )* )? ws "}"',
  "json-array": '"[" ws ( json-value ( "," ws json-value )* )? ws "]"',
  "json-date": '"\\"" [0-9]{4} "-" [0-9]{2} "-" [0-9]{2} "\\""',
};

export interface GrammarLimits {
  /** Longest string where the schema sets no maxLength (default 32 characters). */
  maxStringLength?: number;
  /** Most array items where the schema sets no maxItems (default 4). */
  maxArrayItems?: number;
}

export class GrammarBuilder {
  private readonly rules = new Map<string, string>();
  private readonly bySchema = new Map<string, string>();
  private counter = 0;
  private readonly maxString: number;
  private readonly maxItems: number;

  constructor(limits: GrammarLimits = {}) {
    this.maxString = limits.maxStringLength ?? 32;
    this.maxItems = limits.maxArrayItems ?? 4;
    for (const [name, body] of Object.entries(PRIMITIVES)) this.rules.set(name, body);
    this.rules.set("json-string", `"\\"" json-char{0,${this.maxString}} "\\""`);
  }

  /** Adds a rule and returns its name. */
  rule(name: string, body: string): string {
    this.rules.set(name, body);
    return name;
  }

  /** A GBNF string literal for `text`. */
  static literal(text: string): string {
    return JSON.stringify(text);
  }

  /**
   * A rule for non-empty text that never contains `marker`: a state per prefix of the marker seen
   * so far. The marker's first character must occur nowhere else in it, so that a mismatch can
   * only restart at that character.
   */
  textWithout(name: string, marker: string): string {
    const chars = [...marker];
    const first = chars[0]!;
    if (chars.length < 2 || chars.slice(1).includes(first))
      throw new Error(`textWithout: "${marker}" repeats its first character`);
    const other = (...except: string[]) => `[^${except.map(classChar).join("")}\\x00]`;
    const lit = GrammarBuilder.literal;
    const after = (k: number) => `${name}-${k}`;
    this.rule(after(0), `${other(first)} ${after(0)} | ${lit(first)} ${after(1)} | ""`);
    for (let k = 1; k < chars.length; k++) {
      const next = k + 1 < chars.length ? ` | ${lit(chars[k]!)} ${after(k + 1)}` : "";
      this.rule(after(k), `${other(chars[k]!, first)} ${after(0)} | ${lit(first)} ${after(1)}${next} | ""`);
    }
    return this.rule(name, `${other(first)} ${after(0)} | ${lit(first)} ${after(1)}`);
  }

  /** The name of a rule that matches JSON values valid against `schema`. */
  schemaRule(schema: unknown, hint: string, root: Schema = schema as Schema): string {
    if (schema === true || schema === undefined || schema === null || typeof schema !== "object") return "json-value";
    const key = JSON.stringify(schema);
    const known = this.bySchema.get(key);
    if (known) return known;
    const name = `${sanitize(hint)}-${this.counter++}`;
    this.bySchema.set(key, name);
    this.rules.set(name, this.schemaBody(schema as Schema, name, root));
    return name;
  }

  /**
   * The longest JSON text the rule for `schema` admits, in characters (each a token at most);
   * Infinity where the grammar is unbounded (free-form objects, deep recursion).
   */
  maxLength(schema: unknown, root: Schema = schema as Schema, depth = 0): number {
    if (schema === true || schema === undefined || schema === null || typeof schema !== "object" || depth > 16)
      return Infinity;
    const s = schema as Schema;
    const next = (sub: unknown) => this.maxLength(sub, root, depth + 1);
    if (typeof s.$ref === "string") return next(resolveRef(s.$ref, root));
    if ("const" in s) return JSON.stringify(s.const).length;
    if (Array.isArray(s.enum)) return Math.max(...s.enum.map((v) => JSON.stringify(v).length));
    const union = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
    if (Array.isArray(union)) return Math.max(...union.map(next));
    if (Array.isArray(s.allOf)) return next(mergeAllOf(s));
    if (Array.isArray(s.type)) return Math.max(...s.type.map((t) => next({ ...s, type: t })));
    switch (s.type) {
      case "string": {
        if (s.format === "date") return 12;
        const min = typeof s.minLength === "number" ? s.minLength : 0;
        return 2 + 2 * (typeof s.maxLength === "number" ? s.maxLength : Math.max(min, this.maxString));
      }
      case "integer":
        return 17;
      case "number":
        return 38;
      case "boolean":
        return 5;
      case "null":
        return 4;
      case "array": {
        const min = typeof s.minItems === "number" ? s.minItems : 0;
        const max = typeof s.maxItems === "number" ? s.maxItems : Math.max(min, this.maxItems);
        return max === 0 ? 3 : 4 + max * next(s.items) + (max - 1) * 2;
      }
      default: {
        const properties = (s.properties ?? {}) as Record<string, unknown>;
        const names = Object.keys(properties);
        if (names.length === 0) return s.additionalProperties ? Infinity : 3;
        return 4 + names.reduce((sum, k) => sum + JSON.stringify(k).length + 3 + next(properties[k]) + 2, 0);
      }
    }
  }

  build(rootBody: string): string {
    const lines = [`root ::= ${rootBody}`];
    for (const [name, body] of this.rules) lines.push(`${name} ::= ${body}`);
    return `${lines.join("\n")}\n`;
  }

  private schemaBody(schema: Schema, name: string, root: Schema): string {
    if (typeof schema.$ref === "string") return this.schemaRule(resolveRef(schema.$ref, root), name, root);
    if ("const" in schema) return jsonLiteral(schema.const);
    if (Array.isArray(schema.enum)) return schema.enum.map(jsonLiteral).join(" | ");
    const union = (schema.anyOf ?? schema.oneOf) as unknown[] | undefined;
    if (Array.isArray(union)) return union.map((s, i) => this.schemaRule(s, `${name}-${i}`, root)).join(" | ");
    if (Array.isArray(schema.allOf)) return this.schemaRule(mergeAllOf(schema), name, root);
    const type = schema.type;
    if (Array.isArray(type))
      return type.map((t) => this.schemaRule({ ...schema, type: t }, `${name}-${t}`, root)).join(" | ");
    switch (type) {
      case "string":
        return this.stringBody(schema);
      case "integer":
        return typeof schema.minimum === "number" && schema.minimum >= 0 ? "json-nonneg-integer" : "json-integer";
      case "number":
        return "json-number";
      case "boolean":
        return "json-boolean";
      case "null":
        return "json-null";
      case "array":
        return this.arrayBody(schema, name, root);
      case "object":
        return this.objectBody(schema, name, root);
      default:
        return schema.properties ? this.objectBody(schema, name, root) : "json-value";
    }
  }

  private arrayBody(schema: Schema, name: string, root: Schema): string {
    const item = this.schemaRule(schema.items, `${name}-item`, root);
    const min = typeof schema.minItems === "number" ? schema.minItems : 0;
    const max = typeof schema.maxItems === "number" ? schema.maxItems : Math.max(min, this.maxItems);
    const more = (count: number) => (count <= 0 ? "" : ` ( "," ws ${item} ){0,${count}}`);
    if (max === 0) return '"[" ws "]"';
    if (min === 0) return `"[" ws ( ${item}${more(max - 1)} )? ws "]"`;
    const required = [item, ...Array.from({ length: min - 1 }, () => `"," ws ${item}`)].join(" ");
    return `"[" ws ${required}${more(max - min)} ws "]"`;
  }

  private stringBody(schema: Schema): string {
    if (schema.format === "date") return "json-date";
    const min = typeof schema.minLength === "number" ? schema.minLength : 0;
    const max = typeof schema.maxLength === "number" ? schema.maxLength : Math.max(min, this.maxString);
    return `"\\"" json-char{${min},${max}} "\\""`;
  }

  private objectBody(schema: Schema, name: string, root: Schema): string {
    const properties = (schema.properties ?? {}) as Record<string, unknown>;
    const names = Object.keys(properties);
    if (names.length === 0) return schema.additionalProperties ? "json-object" : '"{" ws "}"';
    const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
    const pair = (key: string) =>
      `${GrammarBuilder.literal(JSON.stringify(key))} ws ":" ws ${this.schemaRule(properties[key], `${name}-${key}`, root)}`;
    const mandatory = names.filter((n) => required.has(n)).map(pair);
    const optional = names.filter((n) => !required.has(n)).map(pair);
    if (mandatory.length > 0) {
      const tail = optional.map((p) => `( "," ws ${p} )?`).join(" ");
      return `"{" ws ${mandatory.join(' "," ws ')} ${tail} ws "}"`;
    }
    const starts = optional.map((p, i) => [p, ...optional.slice(i + 1).map((q) => `( "," ws ${q} )?`)].join(" "));
    return `"{" ws ( ${starts.map((s) => `( ${s} )`).join(" | ")} )? ws "}"`;
  }
}

function jsonLiteral(value: unknown): string {
  return GrammarBuilder.literal(JSON.stringify(value));
}

function resolveRef(ref: string, root: Schema): unknown {
  if (!ref.startsWith("#")) return true;
  let node: unknown = root;
  for (const part of ref.slice(1).split("/").filter(Boolean)) {
    const key = decodeURIComponent(part.replace(/~1/g, "/").replace(/~0/g, "~"));
    node = node && typeof node === "object" ? (node as Schema)[key] : undefined;
  }
  return node ?? true;
}

function mergeAllOf(schema: Schema): Schema {
  const { allOf, ...rest } = schema;
  const merged: Schema = { ...rest };
  for (const part of allOf as Schema[]) {
    if (!part || typeof part !== "object") continue;
    merged.type ??= part.type;
    merged.properties = { ...(merged.properties as Schema | undefined), ...(part.properties as Schema | undefined) };
    merged.required = [...((merged.required as string[]) ?? []), ...((part.required as string[]) ?? [])];
  }
  return merged;
}

function sanitize(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 40) || "r"
  );
}

/** `c` escaped for a GBNF character class. */
function classChar(c: string): string {
  return /[\]\\^-]/.test(c) ? `\\${c}` : c;
}

/**
 * One grammar alternative per tool: `{"name": <tool>, "<argumentsKey>": <its schema>}`, and the
 * longest call text any of them allows (for the token budget).
 */
export function callAlternatives(
  g: GrammarBuilder,
  tools: readonly { function: { name: string; parameters: Record<string, unknown> } }[],
  argumentsKey: string,
): { alternatives: string; longest: number } {
  let longest = 0;
  const bodies = tools.map((tool) => {
    const args = g.schemaRule(tool.function.parameters, `${tool.function.name}-args`);
    const name = GrammarBuilder.literal(JSON.stringify(tool.function.name));
    longest = Math.max(longest, 40 + JSON.stringify(tool.function.name).length + g.maxLength(tool.function.parameters));
    return `( "{" ws "\\"name\\"" ws ":" ws ${name} ws "," ws "\\"${argumentsKey}\\"" ws ":" ws ${args} ws "}" )`;
  });
  return { alternatives: bodies.join(" | "), longest };
}
