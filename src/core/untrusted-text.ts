/**
 * Untrusted text (tool names and descriptions, server stderr and results, model output, release
 * tags): which characters never reach a terminal, a prompt, a report or a PR comment. Every writer
 * of such text goes through this file; the character classes are decided here and nowhere else.
 *
 * - ANSI escape sequences (CSI `ESC [ … final`, OSC `ESC ] … BEL|ST`): removed whole, so no
 *   leftover `[31m` shows.
 * - Unicode direction controls (embeddings, overrides, isolates, the LRM/RLM/ALM marks) and
 *   zero-width characters (zero-width space, word joiner, BOM): removed; they reorder or hide what
 *   the reader sees ("Trojan Source"). The zero-width joiner and non-joiner stay: emoji sequences
 *   and several scripts need them.
 * - Control characters (C0 but tab and newline, DEL, C1) and the Unicode line/paragraph separators:
 *   removed by `printable`, which keeps lines; a space in one-line text (`flatten`).
 */

/* eslint-disable no-control-regex -- matching control characters is the point */
/** CSI escape sequences (colours, cursor movement). */
const ANSI_CSI = /\u001b\[[0-?]*[ -/]*[@-~]/g;
/** OSC escape sequences (window titles, hyperlinks), ended by BEL or ST, or by the end of the text. */
const ANSI_OSC = /\u001b\][^\u0007\u001b]*(\u0007|\u001b\\)?/g;
/** Unicode direction controls and zero-width characters: never shown, always removed. */
const INVISIBLE = /[\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/g;
/** Control characters except tab and newline, and U+2028/U+2029. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;
/** Every control character and line break, tab and newline included, in runs. */
const LINE_BREAKING = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;
/* eslint-enable no-control-regex */

/** Untrusted text for a terminal or a multi-line block: keeps newlines and tabs, drops the rest above. */
export function printable(text: string): string {
  return withoutEscapes(text).replace(INVISIBLE, "").replace(CONTROL, "");
}

/** ANSI escape sequences removed whole: CSI first, then OSC. */
function withoutEscapes(text: string): string {
  return text.replace(ANSI_CSI, "").replace(ANSI_OSC, "");
}

/** Untrusted text on one line: as `printable`, with each run of control characters and line breaks as one space. Not trimmed. */
export function flatten(text: string): string {
  return withoutEscapes(text).replace(INVISIBLE, "").replace(LINE_BREAKING, " ");
}

/** At most `max` characters: longer text is cut to `max - 1` and ends with an ellipsis. */
export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * Untrusted text made safe for one line (a prompt line, a terminal summary): one line without control characters, escape
 * sequences or direction controls, whitespace collapsed, bounded.
 */
export function oneLine(text: string, max: number): string {
  const flat = flatten(text).replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1).trimEnd()}…` : flat;
}
