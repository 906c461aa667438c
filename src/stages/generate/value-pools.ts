import type { McpTool } from "../../core/toolset.js";

/**
 * Free-text argument values belong to one of two pools by a hash of their text: one value in
 * HELD_OUT_EVERY is held out for the eval split, so held-out requests carry values training never
 * saw. Values from small closed sets (enum, const, booleans, numbers) are shared by both splits.
 */
const HELD_OUT_EVERY = 5;

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export const isHeldOutValue = (value: string) => fnv1a(value.trim().toLowerCase()) % HELD_OUT_EVERY === 0;

/** The free-text values of a call: string leaves of at least 3 characters, outside enum/const properties. */
export function pooledValues(tool: McpTool, args: Record<string, unknown>): string[] {
  const props = (tool.inputSchema.properties ?? {}) as Record<string, { enum?: unknown; const?: unknown }>;
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === "string") {
      if (v.trim().length >= 3) out.push(v);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  for (const [key, value] of Object.entries(args))
    if (props[key]?.enum === undefined && props[key]?.const === undefined) walk(value);
  return out;
}

/** The share of a call's free-text values that are held out (0 when it has none). */
export function heldOutShare(tool: McpTool, args: Record<string, unknown>): number {
  const values = pooledValues(tool, args);
  return values.length === 0 ? 0 : values.filter(isHeldOutValue).length / values.length;
}

/** Whether every free-text value of the call is held out (true when it has none). */
export function inValuePool(tool: McpTool, args: Record<string, unknown>): boolean {
  return pooledValues(tool, args).every(isHeldOutValue);
}
