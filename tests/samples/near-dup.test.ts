import { describe, expect, it } from "vitest";

import { NearDupIndex, textJaccard } from "../../src/samples/near-dup.js";

const words = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe("near-duplicate index", () => {
  it("treats case, punctuation and spacing as the same text", () => {
    const index = new NearDupIndex<number>(0.95);
    expect(index.check("Please get the weather for Paris!", 1)).toBeUndefined();
    expect(index.check("please  get the WEATHER, for paris.", 2)).toEqual({ ref: 1, similarity: 1 });
    expect(index.check("Please get the weather for Lyon!", 3)).toBeUndefined();
    expect(index.check("Combien coûte le café à Zürich ?", 4)).toBeUndefined();
    expect(index.check("combien coûte le café à zürich", 5)).toEqual({ ref: 4, similarity: 1 });
    expect(index.check("combien coute le cafe a zurich", 6)).toBeUndefined();
  });

  it("flags long texts just over the threshold and keeps those just under, through the LSH path", () => {
    const index = new NearDupIndex<string>(0.95);
    const base = words("w", 60).join(" ");
    const over = [...words("w", 59), "changed"].join(" ");
    const under = [...words("w", 30), "changed", ...words("w", 60).slice(31)].join(" ");
    expect(textJaccard(base, over)).toBeGreaterThanOrEqual(0.95);
    expect(textJaccard(base, under)).toBeLessThan(0.95);
    expect(index.check(base, "base")).toBeUndefined();
    expect(index.check(under, "under")).toBeUndefined();
    expect(index.check(over, "over")?.ref).toBe("base");
  });

  it("with a lower threshold, short texts that differ are found too", () => {
    const index = new NearDupIndex<string>(0.5);
    expect(index.check("book a table for two at seven", "a")).toBeUndefined();
    expect(index.check("book a table for two at eight", "b")?.ref).toBe("a");
  });
});
