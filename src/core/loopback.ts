import { isIP } from "node:net";

/**
 * Whether a host name or address names this machine's loopback interface: localhost (and
 * *.localhost), 127.0.0.0/8, ::1, and IPv4-mapped 127.x in both spellings (`::ffff:127.0.0.1`,
 * and `::ffff:7f00:1` as the URL parser writes it). Brackets and a trailing dot are ignored.
 */
export function isLoopbackName(host: string): boolean {
  const name = host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/\.$/, "");
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  if (isIP(name) === 4) return name.startsWith("127.");
  if (isIP(name) === 6) return name === "::1" || name === "0:0:0:0:0:0:0:1" || /^::ffff:(127\.|7f)/.test(name);
  return false;
}
