import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { Rng } from "../../src/stages/generate/rng.js";
import { ArgGenerator } from "../../src/stages/generate/values/schema-args.js";

type S = Record<string, unknown>;

/** An independent ajv (not the one the generator uses) as the judge. */
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);

const names = fc.constantFrom(
  "city",
  "query",
  "count",
  "email",
  "path",
  "tags",
  "id",
  "title",
  "limit",
  "options",
  "date",
  "user_name",
);

const stringSchema: fc.Arbitrary<S> = fc.oneof(
  fc.record({ type: fc.constant("string") }),
  fc
    .integer({ min: 0, max: 5 })
    .chain((min) =>
      fc.integer({ min, max: min + 20 }).map((max) => ({ type: "string", minLength: min, maxLength: max })),
    ),
  fc
    .constantFrom("^[a-z]{3,8}$", "^[A-Z]{2}-\\d{3}$", "^(red|green|blue)$", "^\\w+@example\\.com$")
    .map((pattern) => ({ type: "string", pattern })),
  fc
    .constantFrom("date", "date-time", "email", "uri", "uuid", "ipv4", "hostname", "time")
    .map((format) => ({ type: "string", format })),
);

const numberSchema: fc.Arbitrary<S> = fc.oneof(
  fc.record({ type: fc.constantFrom("integer", "number") }),
  fc
    .tuple(
      fc.constantFrom("integer", "number"),
      fc.integer({ min: -1000, max: 1000 }),
      fc.integer({ min: 2, max: 500 }),
    )
    .map(([type, min, span]) => ({ type, minimum: min, maximum: min + span })),
  fc
    .tuple(fc.integer({ min: -50, max: 50 }), fc.integer({ min: 3, max: 100 }))
    .map(([min, span]) => ({ type: "integer", exclusiveMinimum: min, exclusiveMaximum: min + span })),
  fc
    .tuple(fc.integer({ min: 0, max: 100 }), fc.constantFrom(2, 5, 10))
    .map(([min, m]) => ({ type: "integer", minimum: min, maximum: min + 3 * m, multipleOf: m })),
);

const leaf: fc.Arbitrary<S> = fc.oneof(
  stringSchema,
  numberSchema,
  fc.constant({ type: "boolean" }),
  fc.constant({ type: ["string", "null"] }),
  fc
    .uniqueArray(fc.oneof(fc.string({ maxLength: 6 }), fc.integer()), { minLength: 1, maxLength: 4 })
    .map((e) => ({ enum: e })),
  fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.boolean()).map((c) => ({ const: c })),
  fc.constant({ type: "string", default: "auto", description: "with a default" }),
);

const { schema } = fc.letrec<{ schema: S; object: S; array: S; combo: S }>((tie) => ({
  schema: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    leaf,
    tie("object"),
    tie("array"),
    tie("combo"),
  ),
  object: fc
    .uniqueArray(fc.tuple(names, tie("schema")), { minLength: 1, maxLength: 4, selector: ([n]) => n })
    .chain((props) =>
      fc.tuple(fc.subarray(props.map(([n]) => n)), fc.boolean()).map(([required, closed]) => ({
        type: "object",
        properties: Object.fromEntries(props),
        required,
        ...(closed ? { additionalProperties: false } : {}),
      })),
    ),
  array: fc.oneof(
    fc
      .tuple(tie("schema"), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 3 }))
      .map(([items, min, extra]) => ({ type: "array", items, minItems: min, maxItems: min + extra })),
    fc
      .integer({ min: 1, max: 4 })
      .map((min) => ({ type: "array", items: { type: "string", minLength: 3 }, uniqueItems: true, minItems: min })),
  ),
  combo: fc.oneof(
    fc.tuple(stringSchema, numberSchema).map(([a, b]) => ({ oneOf: [a, b] })),
    fc.tuple(tie("schema"), tie("schema")).map(([a, b]) => ({ anyOf: [a, b] })),
    fc
      .tuple(names, stringSchema, numberSchema)
      .map(([n, a, b]) => ({ allOf: [{ type: "object", properties: { [n]: a, other: b } }, { required: [n] }] })),
  ),
}));

/** A tool inputSchema: an object at the root, sometimes with a property behind a $ref into $defs. */
const toolSchema: fc.Arbitrary<S> = fc
  .tuple(
    fc.uniqueArray(fc.tuple(names, schema), { minLength: 0, maxLength: 4, selector: ([n]) => n }),
    fc.option(schema, { nil: undefined }),
    fc.boolean(),
  )
  .map(([props, shared, closed]) => {
    const properties: S = Object.fromEntries(props);
    const root: S = { type: "object", properties, required: props.filter((_, i) => i % 2 === 0).map(([n]) => n) };
    if (closed) root.additionalProperties = false;
    if (shared) {
      root.$defs = { shared };
      properties.shared_ref = { $ref: "#/$defs/shared" };
      (root.required as string[]).push("shared_ref");
    }
    return root;
  });

describe("schema-driven argument generator", () => {
  it("every generated argument object validates with ajv, in standard and edge mode", () => {
    fc.assert(
      fc.property(toolSchema, fc.integer(), fc.constantFrom("standard", "edge"), (s, seed, mode) => {
        const validate = ajv.compile(s);
        const gen = new ArgGenerator(s, "property test");
        const rng = new Rng(seed);
        for (let i = 0; i < 3; i++) {
          const args = gen.generate(rng, mode as "standard" | "edge");
          expect(
            validate(args),
            `${JSON.stringify(args)} vs ${JSON.stringify(s)}: ${ajv.errorsText(validate.errors)}`,
          ).toBe(true);
        }
      }),
      { numRuns: 250 },
    );
  });

  it("is deterministic for a seed, and a different seed gives different values", () => {
    fc.assert(
      fc.property(toolSchema, fc.integer(), (s, seed) => {
        const gen = new ArgGenerator(s, "property test");
        const draw = () => {
          const rng = new Rng(seed);
          return [0, 1, 2].map(() => gen.generate(rng));
        };
        expect(draw()).toEqual(draw());
      }),
      { numRuns: 100 },
    );
    const gen = new ArgGenerator(
      { type: "object", properties: { city: { type: "string" }, n: { type: "integer" } }, required: ["city", "n"] },
      "t",
    );
    expect(gen.generate(new Rng(1))).not.toEqual(gen.generate(new Rng(2)));
  });
});
