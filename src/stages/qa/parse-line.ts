import type { Elision, RawLine } from "../../samples/jsonl.js";

/**
 * JSON.parse of sample lines, made cheap for the common case: every line of a generated dataset
 * repeats the same `tools` array. Once a line shows it, the reader is told its exact bytes
 * (`elision`), cuts them out before decoding, and the already-parsed array is put back here.
 */
export class SampleParser {
  private tools: unknown;
  private current: Elision | undefined;

  /** What readLines should cut out of the lines, once known. */
  readonly elision = (): Elision | undefined => this.current;

  parse(raw: RawLine): unknown {
    if (raw.elidedAt >= 0) {
      const value = JSON.parse(raw.text) as Record<string, unknown>;
      if (value && typeof value === "object" && value.tools === 0) {
        value.tools = this.tools;
        return value;
      }
      // The bytes matched somewhere else than the sample's tools (nested deeper): read the line whole.
      const at = raw.elidedAt;
      return JSON.parse(
        `${raw.text.slice(0, at)}"tools":${JSON.stringify(this.tools)}${raw.text.slice(at + ELIDED.length)}`,
      );
    }
    const value = JSON.parse(raw.text) as unknown;
    const tools = (value as { tools?: unknown } | null)?.tools;
    if (!this.current && Array.isArray(tools)) {
      const text = `"tools":${JSON.stringify(tools)}`;
      if (text.length > 64 && raw.text.includes(text)) {
        this.tools = tools;
        this.current = { bytes: Buffer.from(text), replacement: ELIDED };
      }
    }
    return value;
  }
}

const ELIDED = '"tools":0';

/** Two 32-bit FNV-style lanes over a sequence of strings, without joining them: a 64-bit key. */
class Hasher {
  private h1 = 0x811c9dc5;
  private h2 = 0x41c6ce57;

  add(text: string): void {
    let h1 = this.h1;
    let h2 = this.h2;
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 0x01000193);
      h2 = Math.imul(h2 ^ ch, 0x5bd1e995);
    }
    // A separator so that ["ab", "c"] and ["a", "bc"] differ.
    this.h1 = Math.imul(h1 ^ 0xff, 0x01000193);
    this.h2 = Math.imul(h2 ^ 0xff, 0x5bd1e995);
  }

  key(): string {
    return `${(this.h1 >>> 0).toString(36)}:${(this.h2 >>> 0).toString(36)}`;
  }
}

/**
 * The key under which two samples are exact duplicates: the same conversation after the system
 * prompt (user texts, assistant texts, calls with their arguments, tool results).
 */
export function conversationKey(messages: ReadonlyArray<Record<string, unknown>>): string {
  const h = new Hasher();
  for (const m of messages) {
    if (m.role === "system") continue;
    h.add(String(m.role));
    h.add(typeof m.content === "string" ? m.content : "");
    if (Array.isArray(m.tool_calls)) {
      for (const c of m.tool_calls as Array<{ function: { name: string; arguments: unknown } }>) {
        const args = c.function.arguments;
        h.add(c.function.name);
        h.add(typeof args === "string" ? args : JSON.stringify(args));
      }
    }
  }
  return h.key();
}
