import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { buffer } from "node:stream/consumers";

/**
 * GitHub's REST API, the endpoints the action calls, on loopback: the token's identity (`GET /user`,
 * and GraphQL's `viewer { login }`), issue comments (list, create, update), releases (list, get by
 * tag, latest, create), release assets (list, delete, download) and asset uploads on the separate
 * uploads URL a release's `upload_url` names. Shapes and status codes follow docs.github.com/rest
 * (lists page with per_page/page and a Link header); a read-only token gets 403 on writes as a fork's
 * pull request does.
 *
 * The token belongs to an identity: a GitHub App installation (the workflow's GITHUB_TOKEN is the
 * `github-actions` app's), for which `GET /user` is 403 "Resource not accessible by integration" and
 * GraphQL's viewer is `<slug>[bot]`; or a user (a personal access token), for which both name the
 * user. Comments are written as that identity, and it may edit only its own.
 */
export interface Comment {
  id: number;
  body: string;
  html_url: string;
  user: { login: string; type: string };
}

export interface Asset {
  id: number;
  name: string;
  size: number;
  content_type: string;
  data: Buffer;
}

export interface Release {
  id: number;
  tag_name: string;
  name: string;
  assets: Asset[];
  draft?: boolean;
}

export type Identity = { kind: "app"; slug: string } | { kind: "user"; login: string };

/** The login GitHub shows as the author of what the identity writes. */
export const loginOf = (identity: Identity) => (identity.kind === "app" ? `${identity.slug}[bot]` : identity.login);

export class FakeGitHub {
  readonly comments = new Map<number, Comment[]>();
  readonly releases: Release[] = [];
  readonly requests: string[] = [];
  readOnly = false;
  private nextId = 100;
  private server?: Server;
  url = "";

  constructor(
    readonly owner: string,
    readonly repo: string,
    readonly token: string,
    readonly identity: Identity = { kind: "app", slug: "github-actions" },
  ) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await buffer(req);
    const body = raw.toString("utf8");
    const url = new URL(req.url ?? "/", this.url);
    this.requests.push(`${req.method} ${url.pathname}`);
    const auth = req.headers.authorization ?? "";
    if (auth !== `token ${this.token}` && auth !== `Bearer ${this.token}`)
      return json(res, 401, { message: "Bad credentials" });
    const repo = `/repos/${this.owner}/${this.repo}`;
    const path = url.pathname;
    const login = loginOf(this.identity);
    if (path === "/user" && req.method === "GET") {
      if (this.identity.kind === "app")
        return json(res, 403, {
          message: "Resource not accessible by integration",
          documentation_url: "https://docs.github.com/rest/users/users#get-the-authenticated-user",
          status: "403",
        });
      return json(res, 200, { login, id: 583231, type: "User" });
    }
    if (path === "/graphql" && req.method === "POST") {
      const query = String((JSON.parse(body) as { query?: unknown }).query ?? "");
      if (/\bviewer\s*\{\s*login\s*\}/.test(query)) return json(res, 200, { data: { viewer: { login } } });
      return json(res, 200, { errors: [{ message: "this fake answers only { viewer { login } }" }] });
    }
    const write = req.method !== "GET";
    if (write && this.readOnly)
      return json(res, 403, {
        message: "Resource not accessible by integration",
        documentation_url: "https://docs.github.com/rest",
      });
    let m: RegExpMatchArray | null;
    if ((m = path.match(new RegExp(`^${repo}/issues/(\\d+)/comments$`)))) {
      const issue = Number(m[1]);
      const list = this.comments.get(issue) ?? [];
      if (req.method === "GET") return this.page(res, url, list);
      if (req.method === "POST") {
        const id = this.nextId++;
        const comment = {
          id,
          body: JSON.parse(body).body as string,
          html_url: `https://github.com/${this.owner}/${this.repo}/pull/${issue}#issuecomment-${id}`,
          user: { login, type: this.identity.kind === "app" ? "Bot" : "User" },
        };
        this.comments.set(issue, [...list, comment]);
        return json(res, 201, comment);
      }
    }
    if ((m = path.match(new RegExp(`^${repo}/issues/comments/(\\d+)$`))) && req.method === "PATCH") {
      const comment = [...this.comments.values()].flat().find((c) => c.id === Number(m![1]));
      if (!comment) return json(res, 404, { message: "Not Found" });
      if (comment.user.login !== login)
        return json(res, 403, {
          message: "Resource not accessible by integration",
          documentation_url: "https://docs.github.com/rest/issues/comments#update-an-issue-comment",
        });
      comment.body = JSON.parse(body).body as string;
      return json(res, 200, comment);
    }
    if ((m = path.match(new RegExp(`^${repo}/releases/tags/(.+)$`))) && req.method === "GET") {
      const release = this.releases.find((r) => r.tag_name === decodeURIComponent(m![1]!));
      return release ? json(res, 200, this.releaseJson(release)) : json(res, 404, { message: "Not Found" });
    }
    if (path === `${repo}/releases/latest` && req.method === "GET") {
      const release = this.releases.filter((r) => !r.draft).at(-1);
      return release ? json(res, 200, this.releaseJson(release)) : json(res, 404, { message: "Not Found" });
    }
    // Newest first, as GitHub lists them; drafts too, since the fake's token may push.
    if (path === `${repo}/releases` && req.method === "GET")
      return this.page(
        res,
        url,
        [...this.releases].reverse().map((r) => this.releaseJson(r)),
      );
    if (path === `${repo}/releases` && req.method === "POST") {
      const input = JSON.parse(body) as { tag_name: string; name?: string };
      if (this.releases.some((r) => r.tag_name === input.tag_name))
        return json(res, 422, {
          message: "Validation Failed",
          errors: [{ resource: "Release", code: "already_exists", field: "tag_name" }],
        });
      const release: Release = {
        id: this.nextId++,
        tag_name: input.tag_name,
        name: input.name ?? input.tag_name,
        assets: [],
      };
      this.releases.push(release);
      return json(res, 201, this.releaseJson(release));
    }
    if ((m = path.match(new RegExp(`^${repo}/releases/(\\d+)/assets$`))) && req.method === "GET") {
      const release = this.releases.find((r) => r.id === Number(m![1]));
      return release
        ? json(
            res,
            200,
            release.assets.map((a) => this.assetJson(a)),
          )
        : json(res, 404, { message: "Not Found" });
    }
    if ((m = path.match(new RegExp(`^${repo}/releases/assets/(\\d+)$`)))) {
      const id = Number(m[1]);
      const release = this.releases.find((r) => r.assets.some((a) => a.id === id));
      const asset = release?.assets.find((a) => a.id === id);
      if (!release || !asset) return json(res, 404, { message: "Not Found" });
      if (req.method === "DELETE") {
        release.assets = release.assets.filter((a) => a.id !== id);
        res.writeHead(204).end();
        return;
      }
      if (req.method === "GET") {
        if (req.headers.accept === "application/octet-stream") {
          res
            .writeHead(200, { "content-type": "application/octet-stream", "content-length": asset.data.length })
            .end(asset.data);
          return;
        }
        return json(res, 200, this.assetJson(asset));
      }
    }
    if ((m = path.match(new RegExp(`^/uploads${repo}/releases/(\\d+)/assets$`))) && req.method === "POST") {
      const release = this.releases.find((r) => r.id === Number(m![1]));
      const name = url.searchParams.get("name");
      if (!release || !name) return json(res, 404, { message: "Not Found" });
      if (release.assets.some((a) => a.name === name))
        return json(res, 422, {
          message: "Validation Failed",
          errors: [{ resource: "ReleaseAsset", code: "already_exists", field: "name" }],
        });
      const data = raw;
      const asset: Asset = {
        id: this.nextId++,
        name,
        size: data.length,
        content_type: String(req.headers["content-type"] ?? ""),
        data,
      };
      release.assets.push(asset);
      return json(res, 201, this.assetJson(asset));
    }
    json(res, 404, { message: "Not Found", path });
  }

  /** One page of a list (per_page, page) with GitHub's Link header to the next and last. */
  private page(res: ServerResponse, url: URL, list: readonly unknown[]): void {
    const perPage = Number(url.searchParams.get("per_page") ?? 30);
    const page = Number(url.searchParams.get("page") ?? 1);
    const last = Math.max(1, Math.ceil(list.length / perPage));
    const link = (n: number, rel: string) => `<${this.url}${url.pathname}?per_page=${perPage}&page=${n}>; rel="${rel}"`;
    const links = page < last ? [link(page + 1, "next"), link(last, "last")].join(", ") : undefined;
    json(res, 200, list.slice((page - 1) * perPage, page * perPage), links ? { link: links } : {});
  }

  private releaseJson(r: Release) {
    return {
      id: r.id,
      tag_name: r.tag_name,
      name: r.name,
      draft: r.draft ?? false,
      prerelease: false,
      html_url: `https://github.com/${this.owner}/${this.repo}/releases/tag/${r.tag_name}`,
      upload_url: `${this.url}/uploads/repos/${this.owner}/${this.repo}/releases/${r.id}/assets{?name,label}`,
      assets: r.assets.map((a) => this.assetJson(a)),
    };
  }

  private assetJson(a: Asset) {
    return {
      id: a.id,
      name: a.name,
      size: a.size,
      content_type: a.content_type,
      state: "uploaded",
      url: `${this.url}/repos/${this.owner}/${this.repo}/releases/assets/${a.id}`,
      browser_download_url: `https://github.com/${this.owner}/${this.repo}/releases/download/x/${a.name}`,
    };
  }
}

function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(value);
  res
    .writeHead(status, {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(text),
      ...headers,
    })
    .end(text);
}
