/**
 * Untrusted text (tool names and descriptions, model output, server messages) made inert for
 * GitHub Markdown: no HTML, no links or images, no mentions, no formatting, one line.
 */
export function md(text: unknown, maxLength = 200): string {
  const flat = String(text ?? "")
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ")
    .trim();
  const cut = flat.length > maxLength ? `${flat.slice(0, maxLength - 1)}…` : flat;
  return cut
    .replace(/[\\`*_{}[\]()#+\-.!|~:]/g, (c) => `\\${c}`)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/@/g, "&#64;");
}

/** Text for inside a code span: backticks cannot close it early. */
export function code(text: unknown, maxLength = 120): string {
  const flat = String(text ?? "").replace(/[\r\n`]+/g, " ").trim();
  return `\`${flat.length > maxLength ? `${flat.slice(0, maxLength - 1)}…` : flat}\``;
}
