import { describe, expect, it } from "vitest";

import { resolveMix } from "../../src/core/config.js";
import type { McpTool } from "../../src/core/toolset.js";
import { mayExecute } from "../../src/stages/generate/server-calls.js";
import { redactSecrets } from "../../src/stages/generate/tool-result.js";

const tool = (annotations: McpTool["annotations"]): McpTool => ({
  name: "t",
  inputSchema: { type: "object" },
  ...(annotations ? { annotations } : {}),
});

describe("execution policy", () => {
  it("runs read-only tools by default, never destructive or unannotated ones; --execute all runs everything", () => {
    expect(mayExecute(tool({ readOnlyHint: true }), "readonly")).toBe(true);
    expect(mayExecute(tool({ readOnlyHint: true, destructiveHint: true }), "readonly")).toBe(false);
    expect(mayExecute(tool({ destructiveHint: true }), "readonly")).toBe(false);
    expect(mayExecute(tool(undefined), "readonly")).toBe(false);
    expect(mayExecute(tool({ readOnlyHint: false }), "readonly")).toBe(false);
    expect(mayExecute(tool({ destructiveHint: true }), "all")).toBe(true);
    expect(mayExecute(tool({ readOnlyHint: true }), "none")).toBe(false);
  });

  it("does not run tools that reach the outside world in readonly mode, even when marked read-only", () => {
    expect(mayExecute(tool({ readOnlyHint: true, openWorldHint: true }), "readonly")).toBe(false);
    expect(mayExecute(tool({ readOnlyHint: true, openWorldHint: false }), "readonly")).toBe(true);
    expect(mayExecute(tool({ readOnlyHint: true, openWorldHint: true }), "all")).toBe(true);
  });

  it("keeps secret-looking environment values out of recorded results", () => {
    const env = { OPENAI_API_KEY: "sk-live-1234567890", GITHUB_TOKEN: "ghp_abcdefghijk", HOME: "/home/someone" };
    const text = '{"OPENAI_API_KEY":"sk-live-1234567890","GITHUB_TOKEN":"ghp_abcdefghijk","HOME":"/home/someone"}';
    expect(redactSecrets(text, env)).toBe(
      '{"OPENAI_API_KEY":"[redacted]","GITHUB_TOKEN":"[redacted]","HOME":"/home/someone"}',
    );
  });

  it("fixed ratios keep their value and the other scenarios share the rest in their proportions", () => {
    const mix = resolveMix(undefined, { no_tool: 0.3 });
    expect(mix.no_tool).toBe(0.3);
    expect(mix.standard / mix.error).toBeCloseTo(6);
    expect(Object.values(mix).reduce((a, b) => a + b, 0)).toBeCloseTo(1);
    expect(() => resolveMix(undefined, { no_tool: 0.8, error: 0.5 })).toThrow(/more than 1/);
  });
});
