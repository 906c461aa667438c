import type { IncomingMessage } from "node:http";

import { isLoopbackName } from "../core/loopback.js";
import { RequestError } from "./request.js";

/** The host part of a Host header: `name:port`, `[v6]:port`. */
function hostOf(header: string): string {
  const bracket = /^(\[[^\]]*\])(?::\d*)?$/.exec(header);
  if (bracket) return bracket[1]!;
  return header.replace(/:\d*$/, "");
}

/**
 * Refuses what a web page could send to a server on loopback: a request from a foreign `Origin`
 * (a cross-site fetch or form post) or, when the server listens on loopback only, a `Host` that is
 * not a loopback name (DNS rebinding: evil.example resolving to 127.0.0.1).
 */
export function refuseForeignRequest(req: IncomingMessage, loopbackOnly: boolean): void {
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== "null" && !isLoopbackOrigin(origin)) {
    throw new RequestError(
      403,
      `requests from web pages are refused (Origin: ${origin.slice(0, 100)}); this server answers local programs`,
      null,
      "forbidden_origin",
    );
  }
  if (origin === "null")
    throw new RequestError(403, "requests from opaque origins (Origin: null) are refused", null, "forbidden_origin");
  const host = req.headers.host;
  if (loopbackOnly && (host === undefined || !isLoopbackName(hostOf(host)))) {
    throw new RequestError(
      403,
      `the Host header ${host === undefined ? "is missing" : `names ${host.slice(0, 100)}`}; on loopback this server answers only localhost, 127.0.0.1 and [::1]`,
      null,
      "forbidden_host",
    );
  }
}

function isLoopbackOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === "http:" || url.protocol === "https:") && isLoopbackName(url.hostname);
  } catch {
    return false;
  }
}

/** A POST body must say it is JSON: a form or text/plain post is what a browser sends cross-site without asking. */
export function requireJsonContentType(req: IncomingMessage): void {
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") {
    throw new RequestError(
      415,
      `Content-Type ${type === "" ? "is missing" : `${type.slice(0, 100)} is not supported`}; send the body as JSON with Content-Type: application/json`,
      null,
      "unsupported_media_type",
    );
  }
}
