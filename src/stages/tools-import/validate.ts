import { findSchemaProblem } from "../../core/json-schema.js";
import type { Problem, SourcedTool } from "./shapes.js";

/** MCP's tool-name rule (spec 2025-11-25, SEP-986), as the MCP SDK checks it. */
export const TOOL_NAME = /^[A-Za-z0-9._-]{1,128}$/;

/** Everything wrong with the tools: names, descriptions, schemas, duplicates. */
export function toolProblems(tools: SourcedTool[]): Problem[] {
  const problems: Problem[] = [];
  const firstByName = new Map<string, string>();
  for (const sourced of tools) {
    const { tool, fieldsPointer } = sourced;
    const namePointer = `${fieldsPointer}/name`;
    if (typeof tool.name !== "string") {
      problems.push({
        pointer: namePointer,
        message: `${tool.name === undefined ? "is missing" : "must be a string"}; every tool needs a name`,
      });
    } else if (!TOOL_NAME.test(tool.name)) {
      problems.push({
        pointer: namePointer,
        message: `${JSON.stringify(tool.name)} is not a valid MCP tool name: use 1–128 of A–Z a–z 0–9 _ - . (no spaces)`,
      });
    } else {
      const first = firstByName.get(tool.name);
      if (first !== undefined) {
        problems.push({
          pointer: namePointer,
          message: `duplicate tool name ${JSON.stringify(tool.name)}: also at ${first}; tool names must be unique`,
        });
      } else {
        firstByName.set(tool.name, namePointer);
      }
    }
    for (const field of ["title", "description"] as const) {
      if (field in tool && typeof tool[field] !== "string")
        problems.push({ pointer: `${fieldsPointer}/${field}`, message: "must be a string" });
    }
    if (sourced.inputSchemaPointer)
      problems.push(...objectSchemaProblems(tool.inputSchema, sourced.inputSchemaPointer));
    if (sourced.outputSchemaPointer)
      problems.push(...objectSchemaProblems(tool.outputSchema, sourced.outputSchemaPointer));
    if (
      "annotations" in tool &&
      (typeof tool.annotations !== "object" || tool.annotations === null || Array.isArray(tool.annotations))
    ) {
      problems.push({ pointer: `${sourced.pointer}/annotations`, message: "must be an object" });
    }
  }
  return problems;
}

/** MCP requires input and output schemas to describe an object. */
function objectSchemaProblems(schema: unknown, pointer: string): Problem[] {
  const invalid = findSchemaProblem(schema, pointer);
  if (invalid) return [invalid];
  const type = (schema as Record<string, unknown>).type;
  if (type !== "object") {
    return [
      {
        pointer: `${pointer}/type`,
        message: `is ${JSON.stringify(type) ?? "missing"}; a tool's schema must have "type": "object"`,
      },
    ];
  }
  return [];
}
