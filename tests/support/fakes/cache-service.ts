import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { buffer } from "node:stream/consumers";

/**
 * The Actions cache service v2 that @actions/cache speaks when ACTIONS_CACHE_SERVICE_V2 is set: Twirp
 * JSON RPCs under ACTIONS_RESULTS_URL (CreateCacheEntry → signed upload URL, FinalizeCacheEntryUpload,
 * GetCacheEntryDownloadURL with GitHub's matching: the exact key, else the newest entry whose key
 * starts with a restore key, in order; versions must match), and the blob storage behind the signed
 * URLs (Azure Put Blob for uploads, a plain GET for downloads).
 */
interface Entry {
  key: string;
  version: string;
  blob?: Buffer;
  finalized: boolean;
  created: number;
}

const SERVICE = "/twirp/github.actions.results.api.v1.CacheService/";

export class FakeCacheService {
  readonly entries: Entry[] = [];
  readonly calls: string[] = [];
  private server?: Server;
  private clock = 0;
  url = "";

  constructor(readonly token: string) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** The environment a runner gives a JavaScript action for this service. */
  env(): Record<string, string> {
    return { ACTIONS_CACHE_SERVICE_V2: "true", ACTIONS_RESULTS_URL: this.url, ACTIONS_RUNTIME_TOKEN: this.token };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await buffer(req);
    const url = new URL(req.url ?? "/", this.url);
    if (url.pathname.startsWith(SERVICE)) {
      if (req.headers.authorization !== `Bearer ${this.token}`)
        return json(res, 401, { code: "unauthenticated", msg: "bad token" });
      const method = url.pathname.slice(SERVICE.length);
      this.calls.push(method);
      return json(res, 200, this.rpc(method, JSON.parse(body.toString("utf8") || "{}")));
    }
    const blob = url.pathname.match(/^\/devstoreaccount1\/cache\/(\d+)$/);
    const entry = blob ? this.entries[Number(blob[1])] : undefined;
    if (!entry || url.searchParams.get("sig") !== "fake") {
      res.writeHead(404).end();
      return;
    }
    if (req.method === "PUT") {
      entry.blob = body;
      res
        .writeHead(201, {
          etag: '"0x1"',
          "last-modified": new Date().toUTCString(),
          "x-ms-request-id": "1",
          "x-ms-version": "2024-11-04",
          "x-ms-request-server-encrypted": "true",
        })
        .end();
      return;
    }
    if (req.method === "GET" && entry.blob) {
      res
        .writeHead(200, { "content-type": "application/octet-stream", "content-length": entry.blob.length })
        .end(entry.blob);
      return;
    }
    res.writeHead(404).end();
  }

  private rpc(method: string, request: Record<string, unknown>): Record<string, unknown> {
    const key = String(request.key ?? "");
    const version = String(request.version ?? "");
    if (method === "CreateCacheEntry") {
      if (this.entries.some((e) => e.key === key && e.version === version))
        return { ok: false, message: `cache entry ${key} already exists` };
      this.entries.push({ key, version, finalized: false, created: ++this.clock });
      return { ok: true, signed_upload_url: this.blobUrl(this.entries.length - 1) };
    }
    if (method === "FinalizeCacheEntryUpload") {
      const index = this.entries.findIndex((e) => e.key === key && e.version === version && !e.finalized);
      const entry = this.entries[index];
      if (!entry?.blob || Number(request.size_bytes) !== entry.blob.length)
        return { ok: false, message: "no upload to finalize" };
      entry.finalized = true;
      return { ok: true, entry_id: String(index + 1) };
    }
    if (method === "GetCacheEntryDownloadURL") {
      const ready = this.entries.filter((e) => e.finalized && e.version === version);
      const exact = ready.find((e) => e.key === key);
      const found =
        exact ??
        ((request.restore_keys as string[] | undefined) ?? [])
          .map((prefix) => ready.filter((e) => e.key.startsWith(prefix)).sort((a, b) => b.created - a.created)[0])
          .find(Boolean);
      if (!found) return { ok: false };
      return { ok: true, signed_download_url: this.blobUrl(this.entries.indexOf(found)), matched_key: found.key };
    }
    return { ok: false, message: `unknown method ${method}` };
  }

  private blobUrl(index: number): string {
    return `${this.url}devstoreaccount1/cache/${index}?sig=fake`;
  }
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
}
