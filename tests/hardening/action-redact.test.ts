import { describe, expect, it } from "vitest";

import { redact } from "../../src/action/secrets.js";

describe("the action's PR-comment masking uses the one redaction layer", () => {
  it("masks secret-shaped text a server echoed into a report, not only the values the action was given", () => {
    const report = [
      "| tool | last result |",
      "| whoami | Authorization: Bearer c2VydmVyLWVjaG9lZC10b2tlbg42 |",
      "| env | OPENAI_API_KEY=sk-proj-Zq8vR2xN5mT1pL7wK4hJ9dF3 |",
      "server: https://bot:hunter2hunter2@mcp.example.com/mcp",
    ].join("\n");
    const masked = redact(report, ["hunter2hunter2"]);
    expect(masked).not.toContain("c2VydmVyLWVjaG9lZC10b2tlbg42");
    expect(masked).not.toContain("sk-proj-Zq8vR2xN5mT1pL7wK4hJ9dF3");
    expect(masked).toContain("Authorization: Bearer ***");
    expect(masked).toContain("https://bot:***@mcp.example.com/mcp");
    expect(masked).not.toContain("[redacted]");
  });
});
