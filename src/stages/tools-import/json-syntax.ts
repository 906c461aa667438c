/**
 * Finds where JSON text first goes wrong. `JSON.parse` says *that* it is wrong, but its message
 * often lacks a position; this scanner follows RFC 8259 and returns the offset and the reason.
 */
export function jsonSyntaxError(text: string): { offset: number; message: string } | undefined {
  const scanner = new Scanner(text);
  try {
    scanner.document();
    return undefined;
  } catch (error) {
    if (error instanceof SyntaxAt) return { offset: error.offset, message: error.message };
    throw error;
  }
}

class SyntaxAt extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t"]);

class Scanner {
  private i = 0;
  constructor(private readonly text: string) {}

  document(): void {
    this.space();
    this.value();
    this.space();
    if (this.i < this.text.length) this.fail(`unexpected ${this.found()} after the end of the JSON value`);
  }

  private value(): void {
    const c = this.text[this.i];
    if (c === "{") return this.object();
    if (c === "[") return this.array();
    if (c === '"') return this.string();
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return this.number();
    for (const literal of ["true", "false", "null"]) {
      if (this.text.startsWith(literal, this.i)) {
        this.i += literal.length;
        return;
      }
    }
    this.fail(`expected a value, found ${this.found()}`);
  }

  private object(): void {
    this.i++;
    this.space();
    if (this.text[this.i] === "}") {
      this.i++;
      return;
    }
    for (;;) {
      if (this.text[this.i] !== '"') this.fail(`expected a property name in double quotes, found ${this.found()}`);
      this.string();
      this.space();
      if (this.text[this.i] !== ":") this.fail(`expected ':' after the property name, found ${this.found()}`);
      this.i++;
      this.space();
      this.value();
      this.space();
      const c = this.text[this.i];
      if (c === "}") {
        this.i++;
        return;
      }
      if (c !== ",") this.fail(`expected ',' or '}' after a property value, found ${this.found()}`);
      this.i++;
      this.space();
    }
  }

  private array(): void {
    this.i++;
    this.space();
    if (this.text[this.i] === "]") {
      this.i++;
      return;
    }
    for (;;) {
      this.value();
      this.space();
      const c = this.text[this.i];
      if (c === "]") {
        this.i++;
        return;
      }
      if (c !== ",") this.fail(`expected ',' or ']' after an array element, found ${this.found()}`);
      this.i++;
      this.space();
    }
  }

  private string(): void {
    this.i++;
    for (;;) {
      const c = this.text[this.i];
      if (c === undefined) this.fail("unterminated string");
      if (c === '"') {
        this.i++;
        return;
      }
      if (c < " ") this.fail("control character in a string (escape it, e.g. \\n)");
      if (c === "\\") {
        const e = this.text[this.i + 1] ?? "";
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.i + 2, this.i + 6)))
            this.fail("bad \\u escape (needs 4 hex digits)");
          this.i += 6;
          continue;
        }
        if (!ESCAPES.has(e)) this.fail(`bad escape \\${e}`);
        this.i += 2;
        continue;
      }
      this.i++;
    }
  }

  private number(): void {
    NUMBER.lastIndex = this.i;
    const match = NUMBER.exec(this.text);
    if (!match) this.fail(`bad number`);
    this.i += match[0].length;
  }

  private space(): void {
    while (this.i < this.text.length && " \t\n\r".includes(this.text[this.i]!)) this.i++;
  }

  private found(): string {
    const c = this.text[this.i];
    return c === undefined ? "the end of the file" : JSON.stringify(c);
  }

  private fail(message: string): never {
    throw new SyntaxAt(this.i, message);
  }
}

/** 1-based line and column of an offset into `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}
