// The rule for a tool result that reads as an error, shared by the generator and QC. It imports
// nothing, so QC loads none of the generator's dependencies (faker, ajv).

/**
 * A first line that opens with an error word: "Error: …", "ERROR 1064 …", "ValueError: …", "Traceback (most recent
 * call last)", "Exception in thread …", "MCP error -32602: …", "Failed to …", "Not found: …", "Invalid arguments".
 * "error", "err" and "fatal" also open prose ("Error handling guide"), so they count only with the mark or code an
 * error puts after them.
 */
const ERROR_LINE =
  /^\s*(?:\[(?:error|err|fatal)\]|(?:error|err|fatal)\s*(?:[:!\-—]|\d+\b)|[\w.]*(?:error|exception)\s*:|exception in thread\b|mcp error\b|traceback \(most recent call last\)|failed\b|failure\b|unable to\b|could not\b|permission denied\b|access denied\b|unauthori[sz]ed\b|forbidden\b|not found\b|invalid\b)/i;

/** JSON cut short (at the generator's MAX_RESULT_CHARS) no longer parses: it is an error when its first key holds one. */
const ERROR_FIRST_KEY = /^\{\s*"(?:error|errors|err)"\s*:\s*(?!null\b|false\b|\[\s*\])/;

/**
 * Whether a result's text reports a failure although the server did not set `isError`: an error
 * word opening the text, or a JSON object whose status says so ({"error": …}, {"err": …},
 * {"success": false}, {"ok": false}, {"status": "error"}). The generator records such a result as
 * an error, and QC's errorTextInSuccess flags a success that carries one.
 */
export function looksLikeError(text: string): boolean {
  if (ERROR_LINE.test(text)) return true;
  const t = text.trim();
  if (!t.startsWith("{")) return false;
  try {
    const json = JSON.parse(t) as Record<string, unknown>;
    if (typeof json !== "object" || json === null || Array.isArray(json)) return false;
    if (json.success === false || json.ok === false || json.status === "error" || json.status === "failed") return true;
    const error = json.error ?? json.errors ?? json.err;
    return (
      error !== undefined &&
      error !== null &&
      error !== false &&
      !(Array.isArray(error) && error.length === 0) &&
      !("result" in json) &&
      !("data" in json)
    );
  } catch {
    return ERROR_FIRST_KEY.test(t);
  }
}
