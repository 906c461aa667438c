import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { compileToolSchema } from "../core/json-schema.js";
import { importTools } from "../stages/tools-import/import.js";
import type { Bench } from "./index.js";

const TOOLS = 200;

/** A realistic tool schema; `i` makes each one distinct so each compiles on its own. */
function schema(i: number): Record<string, unknown> {
  return {
    type: "object",
    properties: {
      query: { type: "string", minLength: 1, description: `search text ${i}` },
      limit: { type: "integer", minimum: 1, maximum: 100 },
      since: { type: "string", format: "date-time" },
      tags: { type: "array", items: { type: "string", enum: ["a", "b", "c"] }, uniqueItems: true },
      filter: {
        type: "object",
        properties: { owner: { type: "string" }, open: { type: "boolean" } },
        additionalProperties: false,
      },
    },
    required: ["query"],
    additionalProperties: false,
  };
}

const perSecond = (n: number, ms: number) => Math.round((n / ms) * 1000);
const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

/** compileToolSchema (cold, cached by object, cached by equal copy), validation, and a whole import. */
export const bench: Bench = {
  name: "json-schema + tools import",
  async run() {
    const schemas = Array.from({ length: TOOLS }, (_, i) => schema(i));
    let t = process.hrtime.bigint();
    const validators = schemas.map((s, i) => compileToolSchema(s, `tool ${i}`));
    const coldMs = ms(t);

    t = process.hrtime.bigint();
    for (let r = 0; r < 50; r++) schemas.forEach((s, i) => compileToolSchema(s, `tool ${i}`));
    const sameObjectUs = (ms(t) * 1000) / (50 * TOOLS);

    const copies = schemas.map((s) => structuredClone(s));
    t = process.hrtime.bigint();
    copies.forEach((s, i) => compileToolSchema(s, `tool ${i}`));
    const equalCopyUs = (ms(t) * 1000) / TOOLS;

    const args = {
      query: "weather",
      limit: 5,
      since: "2026-01-01T00:00:00Z",
      tags: ["a", "b"],
      filter: { owner: "me", open: true },
    };
    const validations = 200_000;
    t = process.hrtime.bigint();
    for (let n = 0; n < validations; n++) validators[n % TOOLS]!(args);
    const validateMs = ms(t);

    const dir = await mkdtemp(join(tmpdir(), "mcp-forge-bench-"));
    try {
      const file = join(dir, "openai-tools.json");
      const openAi = schemas.map((s, i) => ({
        type: "function",
        function: { name: `tool_${i}`, description: `Tool ${i}.`, parameters: { ...s, title: `t${i}` } },
      }));
      await writeFile(file, JSON.stringify(openAi, null, 2));
      t = process.hrtime.bigint();
      await importTools(file);
      const importMs = ms(t);
      return {
        "compile, cold (ms per schema)": (coldMs / TOOLS).toFixed(2),
        "compile, cached: same object (µs)": sameObjectUs.toFixed(2),
        "compile, cached: equal copy (µs, canonical JSON key)": equalCopyUs.toFixed(1),
        "validate arguments (per second)": perSecond(validations, validateMs),
        [`tools import of ${TOOLS} OpenAI tools, in process (ms)`]: importMs.toFixed(0),
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
