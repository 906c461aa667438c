import { open } from "node:fs/promises";
import { isUtf8 } from "node:buffer";

export interface RawLine {
  /** 1-based line number in the file. */
  line: number;
  text: string;
  /** False when the bytes were not valid UTF-8 (the text then holds U+FFFD replacements). */
  utf8: boolean;
}

const CHUNK = 1 << 20;
const BLANK = /^\s*$/;

/** Streams a JSONL file line by line without loading it whole; blank lines are skipped. */
export async function* readLines(path: string): AsyncGenerator<RawLine> {
  const handle = await open(path, "r");
  try {
    let carry: Buffer = Buffer.alloc(0);
    let lineNo = 0;
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) break;
      const data = carry.length > 0 ? Buffer.concat([carry, buffer.subarray(0, bytesRead)]) : Buffer.from(buffer.subarray(0, bytesRead));
      const end = data.lastIndexOf(10) + 1;
      const whole = data.subarray(0, end);
      if (isUtf8(whole)) {
        // The common case: decode the chunk once and split it, rather than line by line.
        const lines = whole.toString("utf8").split("\n");
        lines.pop();
        for (const text of lines) {
          lineNo++;
          const body = text.endsWith("\r") ? text.slice(0, -1) : text;
          if (!BLANK.test(body)) yield { line: lineNo, text: body, utf8: true };
        }
      } else {
        let start = 0;
        for (let nl = data.indexOf(10, start); nl !== -1 && nl < end; nl = data.indexOf(10, start)) {
          lineNo++;
          const raw = line(data.subarray(start, nl), lineNo);
          if (raw) yield raw;
          start = nl + 1;
        }
      }
      carry = data.subarray(end);
    }
    if (carry.length > 0) {
      const raw = line(carry, lineNo + 1);
      if (raw) yield raw;
    }
  } finally {
    await handle.close();
  }
}

function line(bytes: Buffer, lineNo: number): RawLine | undefined {
  const end = bytes.length > 0 && bytes[bytes.length - 1] === 13 ? bytes.length - 1 : bytes.length;
  const body = bytes.subarray(0, end);
  const text = body.toString("utf8");
  if (BLANK.test(text)) return undefined;
  return { line: lineNo, text, utf8: isUtf8(body) };
}

/** JSONL text for a list of records: one compact JSON object per line. */
export function toJsonl(records: readonly unknown[]): string {
  return records.map((r) => JSON.stringify(r)).join("\n") + (records.length > 0 ? "\n" : "");
}
