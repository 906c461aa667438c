import { describe, expect, it } from "vitest";

import { codeBlock, md, mermaidLabel } from "../../src/core/markdown-escape.js";
import { table } from "../../src/eval/markdown.js";

describe("untrusted text in the Markdown reports", () => {
  it("a tool name cannot add table cells, links, HTML or terminal escapes", () => {
    const name = "evil|tool <img src=x onerror=alert(1)> [click](http://x) \u001b[31mred";
    const rendered = table(["tool", "value"], [[md(name), "1"]]);
    const row = rendered.split("\n")[2]!;
    expect(row.split(/(?<!\\)\|/).length).toBe(4); // "", cell, cell, "": two cells only
    expect(row).not.toMatch(/(?<!\\)<img/);
    expect(row).not.toMatch(/(?<!\\)\[click(?<!\\)\]/);
    expect(row).not.toContain("\u001b");
  });

  it("model text in a transcript stays inside its code block", () => {
    const text = "```\n# Heading\n</details>\n| a | b |";
    const block = codeBlock(text);
    for (const line of block.split("\n")) expect(line.startsWith("    ")).toBe(true);
  });

  it("a tool name cannot end a Mermaid string", () => {
    const label = mermaidLabel('x"] \n bar [1');
    expect(label).toMatch(/^".*"$/);
    expect(label.slice(1, -1)).not.toMatch(/["[\]\n]/);
  });
});
