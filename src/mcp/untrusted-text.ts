/**
 * Server output (tool descriptions, stderr) is untrusted: before it reaches a terminal, drop
 * escape sequences and control characters that could rewrite the screen. Keeps newlines and tabs.
 */
export function printable(text: string): string {
  /* eslint-disable no-control-regex -- matching control characters is the point */
  return text
    .replace(/\u001b\[[0-?]*[ -/]*[@-~]/g, "")
    .replace(/\u001b\][^\u0007\u001b]*(\u0007|\u001b\\)?/g, "")
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, "");
  /* eslint-enable no-control-regex */
}
