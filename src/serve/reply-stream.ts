import { canonicalJson } from "../core/canonical.js";
import type { CallFormat, ParsedOutput } from "../models/parsers/index.js";
import type { RawCall } from "../models/types.js";

/** What a client may be shown of a reply while the model writes it. */
export type ReplyEvent =
  | { kind: "content"; text: string }
  | { kind: "call"; index: number; name: string }
  | { kind: "arguments"; index: number; text: string };

const HERMES_OPEN = "<tool_call>";
const HERMES_CLOSE = "</tool_call>";
const PYTHON_TAG = "<|python_tag|>";
/** `{"name": "<name>", "arguments": ` up to the `{` of the arguments object. */
const CALL_HEADER = /^\s*\{\s*"name"\s*:\s*("(?:[^"\\]|\\.)*")\s*,\s*"(?:arguments|parameters)"\s*:\s*(?=\{$)/;

/**
 * Splits a reply, fed piece by piece as the model writes it, into the text a client may see and
 * its tool calls, as the call format's parser would read the whole: call markup (`<tool_call>`,
 * Llama 3's JSON calls) never reaches the content; a call's name goes out as soon as it is
 * written and its arguments object as it is written. `finish` with the final parse sends what
 * the pieces could not settle (a call cut off, text held back in case it began a call).
 */
export class ReplySplitter {
  private mode: "start" | "text" | "tag" | "afterTag" | "call" | "opaque" = "start";
  /** Text held back: a possible start of `<tool_call>` or of `<|python_tag|>`. */
  private held = "";
  private heldSpace = "";
  private shownContent = "";
  private call: CallScanner | undefined;
  private calls = 0;

  constructor(
    private readonly format: CallFormat,
    private readonly emit: (event: ReplyEvent) => void,
    private readonly wireArguments: (call: RawCall) => string,
  ) {}

  push(text: string): void {
    for (const c of text) {
      if (this.format.name === "hermes") this.hermes(c);
      else this.llama3(c);
    }
    this.call?.flush();
  }

  /** Sends what the final parse holds beyond what was streamed. */
  finish(parsed: ParsedOutput): void {
    if (this.call) this.closeCall(parsed.calls[this.call.index]);
    while (this.calls < parsed.calls.length) {
      this.openCall();
      this.closeCall(parsed.calls[this.calls - 1]);
    }
    this.heldSpace = "";
    if (parsed.content.startsWith(this.shownContent))
      this.content(parsed.content.slice(this.shownContent.length), true);
  }

  private hermes(c: string): void {
    if (this.mode === "call") {
      const call = this.call!;
      call.feed(c);
      if (call.text.endsWith(HERMES_CLOSE) && (call.closed || !call.json)) {
        this.closeCall(this.format.parse(HERMES_OPEN + call.text).calls[0]);
        this.mode = "text";
      }
      return;
    }
    this.held += c;
    if (this.held === HERMES_OPEN) {
      this.held = "";
      this.mode = "call";
      this.openCall();
      return;
    }
    const keep = longestPrefixSuffix(this.held, HERMES_OPEN);
    this.content(this.held.slice(0, this.held.length - keep));
    this.held = this.held.slice(this.held.length - keep);
  }

  /** A Llama 3 reply is either all text or all calls (`{…}; {…}`, maybe after `<|python_tag|>`). */
  private llama3(c: string): void {
    const blank = /\s/.test(c);
    switch (this.mode) {
      case "start":
        if (blank) return;
        if (c === "{") {
          this.mode = "call";
          this.openCall().feed(c);
        } else if (c === "<") {
          this.mode = "tag";
          this.held = c;
        } else {
          this.mode = "text";
          this.content(c);
        }
        return;
      case "tag":
        this.held += c;
        if (this.held === PYTHON_TAG) {
          this.held = "";
          this.mode = "afterTag";
        } else if (!PYTHON_TAG.startsWith(this.held)) {
          this.mode = "text";
          this.content(this.held);
          this.held = "";
        }
        return;
      case "afterTag":
        if (blank) return;
        // Anything but JSON after the tag is a bad call, which only the final parse can describe.
        this.mode = c === "{" ? "call" : "opaque";
        if (c === "{") this.openCall().feed(c);
        return;
      case "call":
        if (!this.call) {
          if (!blank) this.openCall().feed(c);
        } else if (c === ";" && this.call.atTopLevel) {
          this.closeCall(this.format.parse(this.call.text).calls[0]);
        } else {
          this.call.feed(c);
        }
        return;
      case "text":
        this.content(c);
        return;
      case "opaque":
        return;
    }
  }

  private openCall(): CallScanner {
    this.call = new CallScanner(this.calls, this.emit);
    this.calls += 1;
    return this.call;
  }

  private closeCall(parsed: RawCall | undefined): void {
    this.call?.finishWith(parsed, this.wireArguments);
    this.call = undefined;
  }

  /**
   * Content as the parser returns it: trimmed at both ends. Leading blanks are dropped and
   * trailing ones held until more text follows them.
   */
  private content(text: string, final = false): void {
    let out = this.heldSpace + text;
    if (this.shownContent === "") out = out.trimStart();
    const body = final ? out : out.trimEnd();
    this.heldSpace = final ? "" : out.slice(body.length);
    if (body === "") return;
    this.shownContent += body;
    this.emit({ kind: "content", text: body });
  }
}

/**
 * One call's JSON as it arrives: the name once `{"name": "…", "arguments": ` is complete, then
 * the arguments object as it is written, all but its closing brace. That brace goes out only
 * once the whole call parses to those arguments, so a call that breaks off later reaches the
 * client unparseable, as it does without streaming.
 */
class CallScanner {
  text = "";
  /** The call's text starts with `{` (as opposed to garbage the parser will report). */
  json = false;
  /** The outer JSON object has closed. */
  closed = false;
  private started = false;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private named = false;
  private argsState: "none" | "open" | "done" = "none";
  private pendingArgs = "";
  private sentArgs = "";
  private heldClose = "";

  constructor(
    readonly index: number,
    private readonly emit: (event: ReplyEvent) => void,
  ) {}

  /** Between top-level values: where Llama 3 separates calls with `;`. */
  get atTopLevel(): boolean {
    return this.depth === 0 && !this.inString;
  }

  feed(c: string): void {
    this.text += c;
    if (!this.started && !/\s/.test(c)) {
      this.started = true;
      this.json = c === "{";
    }
    this.track(c);
    if (!this.named && c === "{" && this.json) this.readHeader();
    else if (this.argsState === "open") {
      if (this.depth === 1 && !this.inString) {
        this.argsState = "done";
        this.heldClose = c;
      } else {
        this.pendingArgs += c;
      }
    }
  }

  /** Sends the arguments written since the last flush, as one event. */
  flush(): void {
    if (this.pendingArgs === "") return;
    this.emit({ kind: "arguments", index: this.index, text: this.pendingArgs });
    this.sentArgs += this.pendingArgs;
    this.pendingArgs = "";
  }

  /** The call is over: whatever the stream could not show of it goes out from the parsed call. */
  finishWith(call: RawCall | undefined, wireArguments: (call: RawCall) => string): void {
    this.flush();
    if (!this.named) {
      this.named = true;
      this.emit({ kind: "call", index: this.index, name: call?.name ?? "" });
    }
    if (this.argsState === "none") {
      this.argsState = "done";
      this.emit({ kind: "arguments", index: this.index, text: call ? wireArguments(call) : "null" });
    } else if (
      this.heldClose !== "" &&
      call &&
      !call.error &&
      sameJson(this.sentArgs + this.heldClose, call.arguments)
    ) {
      this.emit({ kind: "arguments", index: this.index, text: this.heldClose });
    }
    this.heldClose = "";
  }

  private readHeader(): void {
    const match = CALL_HEADER.exec(this.text);
    if (!match) return;
    let name: unknown;
    try {
      name = JSON.parse(match[1]!);
    } catch {
      return;
    }
    this.named = true;
    this.argsState = "open";
    this.pendingArgs = "{";
    this.emit({ kind: "call", index: this.index, name: name as string });
  }

  private track(c: string): void {
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (c === "\\") this.escaped = true;
      else if (c === '"') this.inString = false;
      return;
    }
    if (c === '"') this.inString = true;
    else if (c === "{" || c === "[") this.depth += 1;
    else if (c === "}" || c === "]") {
      this.depth -= 1;
      if (this.depth === 0 && this.json) this.closed = true;
    }
  }
}

function sameJson(text: string, value: unknown): boolean {
  try {
    return canonicalJson(JSON.parse(text)) === canonicalJson(value);
  } catch {
    return false;
  }
}

/** The length of the longest end of `text` that `marker` starts with. */
function longestPrefixSuffix(text: string, marker: string): number {
  for (let n = Math.min(text.length, marker.length - 1); n > 0; n--) {
    if (marker.startsWith(text.slice(text.length - n))) return n;
  }
  return 0;
}
