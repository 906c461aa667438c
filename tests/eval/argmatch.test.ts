import { describe, expect, it } from "vitest";

import { callMatches, type ExpectedCall } from "../../src/eval/argmatch.js";

const schema = {
  type: "object",
  properties: {
    city: { type: "string" },
    days: { type: "integer", default: 1 },
    temp: { type: "number" },
    tags: { type: "array", items: { type: "string" }, uniqueItems: true },
    path: { type: "array", items: { type: "string" } },
  },
  required: ["city"],
};
const expected: ExpectedCall = { name: "forecast", arguments: { city: "New York", temp: 20 } };
const match = (args: Record<string, unknown>, exp: ExpectedCall = expected) =>
  callMatches(exp, { name: "forecast", arguments: args }, schema);

describe("argument matching (BFCL AST rules)", () => {
  it("compares strings without case or extra whitespace, numbers numerically", () => {
    expect(match({ city: "  new   york ", temp: 20.0 })).toBe(true);
    expect(match({ city: "Newark", temp: 20 })).toBe(false);
  });

  it("rejects a value of the wrong type", () => {
    expect(match({ city: "New York", temp: "20" })).toBe(false);
  });

  it("needs required parameters and refuses parameters outside the schema", () => {
    expect(match({ temp: 20 })).toBe(false);
    expect(match({ city: "New York", temp: 20, country: "US" })).toBe(false);
  });

  it("accepts an optional parameter left out or given as its default, nothing else", () => {
    expect(match({ city: "New York", temp: 20, days: 1 })).toBe(true);
    expect(match({ city: "New York", temp: 20, days: 3 })).toBe(false);
  });

  it("compares uniqueItems arrays as sets, other arrays in order", () => {
    const exp = { name: "forecast", arguments: { city: "x", tags: ["a", "b"], path: ["a", "b"] } };
    expect(match({ city: "x", tags: ["B", "a"], path: ["a", "b"] }, exp)).toBe(true);
    expect(match({ city: "x", tags: ["a", "b"], path: ["b", "a"] }, exp)).toBe(false);
  });

  it("takes any of the acceptable values a sample lists", () => {
    const exp = { ...expected, acceptable: { city: ["NYC", "New York City"] } };
    expect(match({ city: "nyc", temp: 20 }, exp)).toBe(true);
    expect(match({ city: "Boston", temp: 20 }, exp)).toBe(false);
  });

  it("needs the same function name", () => {
    expect(callMatches(expected, { name: "weather", arguments: expected.arguments }, schema)).toBe(false);
  });
});
