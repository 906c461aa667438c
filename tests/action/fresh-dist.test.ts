import { describe, expect, it } from "vitest";

import { runsActionTests, staleDist } from "../support/fresh-dist.js";

describe("tests/action rebuild dist/ when it is older than the sources (global setup)", () => {
  it("only for runs that include a file under tests/action", () => {
    expect(runsActionTests(undefined)).toBe(true);
    expect(runsActionTests([])).toBe(true);
    expect(runsActionTests(["tests/action/cache.test.ts"])).toBe(true);
    expect(runsActionTests(["cache.test"])).toBe(true);
    expect(runsActionTests(["./tests/action"])).toBe(true);
    expect(runsActionTests(["tests/qa", "tests/generate/split.test.ts"])).toBe(false);
  });

  it("dist/ is fresh here: the global setup has just rebuilt it if it was not", () => {
    expect(staleDist()).toBeNull();
  });
});
