import { isUtf8 } from "node:buffer";
import { open } from "node:fs/promises";

export interface RawLine {
  /** 1-based line number in the file. */
  line: number;
  text: string;
  /** False when the bytes were not valid UTF-8 (the text then holds U+FFFD replacements). */
  utf8: boolean;
  /** Where `text` holds the elision's replacement instead of its bytes; -1 when the line had none. */
  elidedAt: number;
}

/**
 * Bytes that many lines repeat (a JSONL file's shared `tools` array): where a line contains them
 * they are replaced by `replacement` without being decoded, which saves most of the reading time.
 */
export interface Elision {
  bytes: Buffer;
  replacement: string;
}

const CHUNK = 1 << 20;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const BLANK = /^\s*$/;

/**
 * Streams a JSONL file line by line without loading it whole; blank lines are skipped. `elision`
 * is asked for its current bytes at every line, so a caller can set them after the first line.
 */
export async function* readLines(path: string, elision?: () => Elision | undefined): AsyncGenerator<RawLine> {
  const handle = await open(path, "r");
  try {
    let carry: Buffer = Buffer.alloc(0);
    let lineNo = 0;
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) break;
      // A UTF-8 byte-order mark (Windows editors write one) is not part of the first line.
      const skip = lineNo === 0 && carry.length === 0 && buffer.subarray(0, 3).equals(BOM) ? 3 : 0;
      const data =
        carry.length > 0
          ? Buffer.concat([carry, buffer.subarray(0, bytesRead)])
          : Buffer.from(buffer.subarray(skip, bytesRead));
      const end = data.lastIndexOf(10) + 1;
      // Lines split at 0x0a never cut a multi-byte character, so a valid chunk means valid lines.
      const valid = isUtf8(data.subarray(0, end));
      let start = 0;
      for (let nl = data.indexOf(10, start); nl !== -1 && nl < end; nl = data.indexOf(10, start)) {
        lineNo++;
        const raw = decode(data, start, nl, lineNo, valid ? true : undefined, elision?.());
        if (raw) yield raw;
        start = nl + 1;
      }
      carry = data.subarray(end);
    }
    if (carry.length > 0) {
      const raw = decode(carry, 0, carry.length, lineNo + 1, undefined, elision?.());
      if (raw) yield raw;
    }
  } finally {
    await handle.close();
  }
}

function decode(
  data: Buffer,
  start: number,
  stop: number,
  lineNo: number,
  knownUtf8: true | undefined,
  elision: Elision | undefined,
): RawLine | undefined {
  const end = stop > start && data[stop - 1] === 13 ? stop - 1 : stop;
  const at = elision ? data.subarray(start, end).indexOf(elision.bytes) : -1;
  let text: string;
  let elidedAt = -1;
  if (at >= 0) {
    const cut = start + at;
    const head = data.toString("utf8", start, cut);
    elidedAt = head.length;
    text = `${head}${elision!.replacement}${data.toString("utf8", cut + elision!.bytes.length, end)}`;
  } else {
    text = data.toString("utf8", start, end);
    if (BLANK.test(text)) return undefined;
  }
  return { line: lineNo, text, utf8: knownUtf8 ?? isUtf8(data.subarray(start, end)), elidedAt };
}

/** JSONL text for a list of records: one compact JSON object per line. */
export function toJsonl(records: readonly unknown[]): string {
  return records.map((r) => JSON.stringify(r)).join("\n") + (records.length > 0 ? "\n" : "");
}
