/**
 * Argument matching after the Berkeley Function-Calling Leaderboard's AST checker: the name is
 * equal, every required parameter is present, no parameter outside the schema, each value has
 * the schema's type and equals the expected one after normalisation (strings case- and
 * whitespace-insensitive, numbers numerically, arrays order-free where the schema says
 * uniqueItems), any of several acceptable values where the sample lists them.
 */

type Schema = Record<string, unknown>;

export interface ExpectedCall {
  name: string;
  arguments: Record<string, unknown>;
  /** Acceptable values per parameter; the expected value is always acceptable too. */
  acceptable?: Record<string, unknown[]>;
}

export function callMatches(
  expected: ExpectedCall,
  actual: { name: string; arguments: Record<string, unknown> },
  schema: Schema | undefined,
): boolean {
  if (expected.name !== actual.name) return false;
  const properties = (schema?.properties ?? {}) as Record<string, Schema>;
  const required = Array.isArray(schema?.required) ? (schema.required as string[]) : [];
  if (required.some((k) => !(k in actual.arguments))) return false;
  const keys = new Set([...Object.keys(expected.arguments), ...Object.keys(actual.arguments)]);
  for (const key of keys) {
    const propSchema = properties[key];
    const inExpected = key in expected.arguments;
    const inActual = key in actual.arguments;
    if (!inExpected) {
      if (!propSchema && schema?.properties) return false;
      if (!("default" in (propSchema ?? {})) || !valuesEqual(propSchema!.default, actual.arguments[key], propSchema))
        return false;
      continue;
    }
    if (!inActual) {
      if (
        !propSchema ||
        !("default" in propSchema) ||
        !valuesEqual(propSchema.default, expected.arguments[key], propSchema)
      )
        return false;
      continue;
    }
    const options = [expected.arguments[key], ...(expected.acceptable?.[key] ?? [])];
    if (!options.some((option) => valuesEqual(option, actual.arguments[key], propSchema))) return false;
  }
  return true;
}

/** Equal after normalisation, with `actual` of the type the schema (or else the expected value) says. */
export function valuesEqual(expected: unknown, actual: unknown, schema: Schema | undefined): boolean {
  if (!sameKind(expected, actual)) return false;
  if (typeof expected === "string") return normaliseString(expected) === normaliseString(actual as string);
  if (typeof expected === "number") return numbersEqual(expected, actual as number);
  if (Array.isArray(expected)) {
    const list = actual as unknown[];
    if (list.length !== expected.length) return false;
    const itemSchema = schema?.items as Schema | undefined;
    if (schema?.uniqueItems === true) {
      const left = [...list];
      return expected.every((e) => {
        const i = left.findIndex((a) => valuesEqual(e, a, itemSchema));
        if (i < 0) return false;
        left.splice(i, 1);
        return true;
      });
    }
    return expected.every((e, i) => valuesEqual(e, list[i], itemSchema));
  }
  if (expected && typeof expected === "object") {
    const a = actual as Record<string, unknown>;
    const e = expected as Record<string, unknown>;
    const keys = new Set([...Object.keys(e), ...Object.keys(a)]);
    const properties = (schema?.properties ?? {}) as Record<string, Schema>;
    for (const k of keys) {
      if (!(k in e) || !(k in a)) return false;
      if (!valuesEqual(e[k], a[k], properties[k])) return false;
    }
    return true;
  }
  return expected === actual;
}

function sameKind(a: unknown, b: unknown): boolean {
  if (a === null || b === null) return a === b;
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b);
  return typeof a === typeof b;
}

const normaliseString = (s: string) => s.trim().replace(/\s+/g, " ").toLowerCase();

function numbersEqual(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}
