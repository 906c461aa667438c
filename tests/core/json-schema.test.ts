import { describe, expect, it } from "vitest";

import { ForgeError } from "../../src/core/errors.js";
import { checkSchema, compileToolSchema } from "../../src/core/json-schema.js";

const search = {
  type: "object",
  properties: {
    q: { type: "string", minLength: 1 },
    when: { type: "string", format: "date" },
    limit: { type: "integer", maximum: 50 },
  },
  required: ["q"],
  additionalProperties: false,
};

describe("compileToolSchema", () => {
  it("validates arguments, formats included, and compiles an equal schema only once", () => {
    const validate = compileToolSchema(search, "tool search");
    expect(validate({ q: "x", when: "2026-11-25", limit: 3 })).toBe(true);
    expect(validate({ q: "x", when: "yesterday" })).toBe(false);
    expect(validate({ q: "x", limit: 51, extra: 1 })).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath || e.params)).toEqual(expect.arrayContaining(["/limit"]));
    expect(compileToolSchema(structuredClone(search), "again")).toBe(validate);
  });

  it("takes the draft from $schema: draft-07 tuples, 2020-12 by default", () => {
    const tuple = {
      type: "object",
      properties: { pair: { type: "array", items: [{ type: "string" }, { type: "number" }] } },
    };
    const d7 = compileToolSchema({ $schema: "http://json-schema.org/draft-07/schema#", ...tuple }, "draft-07 tool");
    expect(d7({ pair: ["a", 1] })).toBe(true);
    expect(d7({ pair: [1, "a"] })).toBe(false);
    expect(checkSchema(tuple, "/tools/0/inputSchema")).toMatch(
      /^\/tools\/0\/inputSchema\/properties\/pair\/items: .* must be object/,
    );
  });

  it("compiles unknown keywords, but throws an exit-2 ForgeError naming the place for an invalid schema", () => {
    expect(compileToolSchema({ type: "object", "x-ui": { order: 1 } }, "vendor")({})).toBe(true);
    let error: unknown;
    try {
      compileToolSchema({ type: "object", properties: { n: { type: "int" } } }, "tools.json /tools/2/inputSchema");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ForgeError);
    expect((error as ForgeError).exitCode).toBe(2);
    expect((error as ForgeError).message).toContain(
      'tools.json /tools/2/inputSchema: invalid JSON Schema at /properties/n/type: "int" must be one of',
    );
  });
});
