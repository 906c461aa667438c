import type { ValueSource } from "../../../samples/sample.js";
import type { Rng } from "../rng.js";
import { fitsFormat, isNumericFormat, parseDescriptionHints, valueForFormat } from "./description-hints.js";
import { type ParamKind, paramKind } from "./param-kind.js";
import { semanticValue } from "./semantic.js";
import type { ServerValues } from "./server-values.js";

/** How a draw treats server-shown values: as usual, always where known (a retry), or never (a call meant to fail). */
export type ServerUse = "normal" | "prefer" | "avoid";

/** One scalar slot of an argument: its property name (singular for array items), the top-level key, its description. */
export interface Leaf {
  name: string;
  param: string;
  description?: string;
  numeric: boolean;
  integer: boolean;
}

export interface Candidate {
  value: string | number;
  source: ValueSource;
}

/** Kinds whose server values are one choice among many (a search can be about anything); the others name real things. */
const FREE_KINDS: ReadonlySet<ParamKind | undefined> = new Set<ParamKind | undefined>(["query", "sql", undefined]);

/**
 * The grounded sources of values for one tool's parameters, best first: what the server showed,
 * then (after the schema's own keywords, which the generator applies) what the description says,
 * then a semantic provider for the parameter's kind.
 */
export class Grounding {
  constructor(
    private readonly toolName: string,
    private readonly values?: ServerValues,
  ) {}

  server(leaf: Leaf, rng: Rng, use: ServerUse, fits: (v: unknown) => boolean): Candidate | undefined {
    if (!this.values || use === "avoid") return undefined;
    const kind = paramKind(leaf.name, leaf.description, leaf.numeric);
    const known = this.values.valuesFor(this.toolName, leaf.param, kind, leaf.name);
    if (known.length === 0) return undefined;
    const usable = known.map((v) => (leaf.numeric ? Number(v) : typeof v === "number" ? String(v) : v)).filter(fits);
    if (usable.length === 0) return undefined;
    const onlyAllowed = this.values.allowedFor(this.toolName, leaf.param) !== undefined;
    if (use === "normal" && !onlyAllowed && FREE_KINDS.has(kind) && !rng.bool(0.6)) return undefined;
    return { value: rng.pick(usable), source: "server" };
  }

  hinted(leaf: Leaf, rng: Rng, fits: (v: unknown) => boolean): Candidate | undefined {
    const hints = parseDescriptionHints(leaf.description);
    const kind = paramKind(leaf.name, leaf.description, leaf.numeric);
    const format = hints.format && isNumericFormat(hints.format) === leaf.numeric ? hints.format : undefined;
    const examples = hints.examples
      .map((e) => (leaf.numeric ? Number(e) : e))
      .filter((e) => fits(e) && (!format || fitsFormat(format, e)));
    // A lone example would make every value the same; when a format or kind can vary it, the example is one choice.
    const alternatives = format !== undefined || kind !== undefined;
    if (examples.length > 0 && (!alternatives || rng.bool(0.4)))
      return { value: rng.pick(examples), source: "description" };
    if (format) {
      const value = valueForFormat(format, rng);
      if (fits(value)) return { value, source: "description" };
    }
    if (!kind) return undefined;
    const semantic = semanticValue(kind, leaf, rng, this.values);
    return semantic && fits(semantic.value) ? semantic : undefined;
  }
}
