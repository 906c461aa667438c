#!/usr/bin/env node
// Tries hostile and careless inputs against the built CLI, area by area, and prints how many were
// handled right (docs/benchmarks.md keeps the table). Build first: npm run build.
//   node scripts/probe-hardening.mjs                   bad input and secrets
//   node scripts/probe-hardening.mjs --bundle bundle   also verify-bundle and serve on a packed bundle
import { execFile, execFileSync, spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile, appendFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import console from "node:console";
import process from "node:process";
import { fileURLToPath, URL } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = join(ROOT, "bin", "mcp-forge.js");
const TOOLS = join(ROOT, "tests", "fixtures", "data", "tools.json");
const TRAIN = join(ROOT, "tests", "fixtures", "data", "train.jsonl");
const HANG = join(ROOT, "tests", "fixtures", "servers", "hang.mjs");
const LEAKY = join(ROOT, "tests", "hardening", "fixtures", "leaky-server.mjs");
const bundleArg = process.argv.indexOf("--bundle");
const BUNDLE = bundleArg > 0 ? resolve(process.argv[bundleArg + 1]) : undefined;

const dir = await mkdtemp(join(tmpdir(), "mcp-forge-probe-"));
const results = new Map();
const record = (area, name, ok, detail = "") => {
  const r = results.get(area) ?? { tried: 0, right: 0, wrong: [] };
  r.tried++;
  if (ok) r.right++;
  else r.wrong.push(`${name}${detail ? `: ${detail}` : ""}`);
  results.set(area, r);
};
const cli = (args, env = {}) =>
  new Promise((done) => {
    const started = Date.now();
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        done({
          code: error ? (typeof error.code === "number" ? error.code : "killed") : 0,
          stdout,
          stderr,
          ms: Date.now() - started,
        });
      },
    );
  });
const noStack = (run) => !/\n\s+at /.test(run.stderr);
let n = 0;
const fresh = () => join(dir, `w${n++}`);

async function badInput() {
  const area = "bad input → exit 2, no stack trace";
  const folder = join(dir, "a-folder");
  await mkdir(folder);
  const file = join(dir, "a-file");
  await writeFile(file, "x");
  const bomb = join(dir, "bomb.yaml");
  const levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 9; i++)
    levels.push(
      `a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(", ")}]`,
    );
  await writeFile(bomb, `${levels.join("\n")}\ntools: *a8\n`);
  const loop = join(dir, "loop.json");
  await writeFile(
    loop,
    JSON.stringify({
      tools: [{ name: "t", inputSchema: { type: "object", properties: { a: { $ref: "#/properties/a" } } } }],
    }),
  );
  const cases = [
    ["generate --samples 1e12", ["generate", "--tools", TOOLS, "--samples", "1e12", "-w", fresh()]],
    ["generate --samples -1", ["generate", "--tools", TOOLS, "--samples", "-1", "-w", fresh()]],
    ["inspect --timeout 1e12", ["inspect", "--server", `node ${HANG}`, "--timeout", "1e12", "-w", fresh()]],
    ["inspect --timeout 0", ["inspect", "--server", `node ${HANG}`, "--timeout", "0", "-w", fresh()]],
    [
      "generate --out <a folder>",
      ["generate", "--tools", TOOLS, "--samples", "50", "--out", folder, "--no-gate", "-w", fresh()],
    ],
    ["inspect -w <a file>", ["inspect", "--server", `node ${HANG}`, "-w", file]],
    [
      "tools import --out /proc/nope/tools.json",
      ["tools", "import", TOOLS, "--out", "/proc/nope/tools.json", "-w", fresh()],
    ],
    ["tools import <YAML alias bomb>", ["tools", "import", bomb, "-w", fresh()]],
    ["tools import <a $ref loop>", ["tools", "import", loop, "-w", fresh()]],
    ["tools import <a folder>", ["tools", "import", folder, "-w", fresh()]],
    ["serve --max-queue 0", ["serve", "--bundle", folder, "--max-queue", "0"]],
    ["qa --data <missing>", ["qa", "--data", join(dir, "missing.jsonl"), "-w", fresh()]],
  ];
  for (const [name, args] of cases) {
    const run = await cli(args);
    record(area, name, run.code === 2 && noStack(run) && run.ms < 20_000, `exit ${run.code} in ${run.ms} ms`);
  }
  const bomTools = join(dir, "bom.json");
  await writeFile(bomTools, `\uFEFF${await readFile(TOOLS, "utf8")}`);
  const imported = await cli(["tools", "import", bomTools, "-w", fresh()]);
  record("valid input accepted", "tools import <UTF-8 BOM>", imported.code === 0, imported.stderr.slice(0, 200));
  const generated = await cli([
    "generate",
    "--tools",
    bomTools,
    "--samples",
    "50",
    "--no-gate",
    "--no-progress",
    "-w",
    fresh(),
  ]);
  record("valid input accepted", "generate --tools <UTF-8 BOM>", generated.code === 0, generated.stderr.slice(0, 200));
  const qaDir = fresh();
  await mkdir(join(qaDir, "data"), { recursive: true });
  await writeFile(join(qaDir, "data", "train.jsonl"), `\uFEFF${await readFile(TRAIN, "utf8")}`);
  const qa = await cli(["qa", "--tools", TOOLS, "-w", qaDir, "--json"]);
  record("valid input accepted", "qa <UTF-8 BOM>", !qa.stdout.includes("parse_error"), "the first line was not read");
  const tree = join(dir, "tree.json");
  await writeFile(
    tree,
    JSON.stringify({
      tools: [
        {
          name: "add_node",
          inputSchema: { type: "object", properties: { label: { type: "string" }, child: { $ref: "#" } } },
        },
      ],
    }),
  );
  const treeRun = await cli(["tools", "import", tree, "-w", fresh()]);
  record("valid input accepted", 'tools import <"$ref": "#">', treeRun.code === 0, treeRun.stderr.slice(0, 200));
}

async function secrets() {
  const area = "secrets kept out of files and output";
  const canary = "cAnArY-7Qx2Lm9Vb4Nz8Kw3";
  const shaped = ["bEaReR0Tok3nXyZ98765qwerty", "sk-proj-CaNaRy00112233445566778899aabb"];
  const password = "uRlPa55-Canary-6Hj2";
  const env = { LEAKY_B: shaped[0], LEAKY_O: shaped[1] };
  const workdir = fresh();
  const server = ["--server", `node ${LEAKY}`, "--env", `MY_API_TOKEN=${canary}`];
  const runs = [
    await cli(["inspect", ...server, "-w", workdir], env),
    await cli(["generate", ...server, "-w", workdir, "--samples", "60", "--no-progress"], env),
    await cli(["qa", "-w", workdir], env),
    await cli(["status", "-w", workdir, "--json"], env),
    await cli(["inspect", "--url", `http://someone:${password}@127.0.0.1:9/mcp`, "-w", workdir, "--timeout", "5"], env),
  ];
  const files = (await readdir(workdir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
  const texts = [
    ...(await Promise.all(files.map((f) => readFile(f, "utf8")))),
    ...runs.map((r) => r.stdout + r.stderr),
  ];
  for (const [name, secret] of [
    ["--env value", canary],
    ["bearer token a server printed", shaped[0]],
    ["sk- key a server printed", shaped[1]],
    ["--url password", password],
  ]) {
    const leaks = texts.filter((t) => t.includes(secret)).length;
    record(area, name, leaks === 0, `in ${leaks} of ${texts.length} files and outputs`);
  }
}

async function bundle() {
  const area = "verify-bundle: links, FIFOs, devices refused";
  const copy = async () => {
    const to = fresh();
    await cp(BUNDLE, to, { recursive: true });
    return to;
  };
  const outside = fresh();
  await mkdir(outside);
  const variants = [
    [
      "tools.json linked outside",
      async (at) => (
        await rename(join(at, "tools.json"), join(outside, "tools.json")),
        symlink(join(outside, "tools.json"), join(at, "tools.json"))
      ),
    ],
    [
      "tests/ linked outside",
      async (at) => (
        await rename(join(at, "tests"), join(outside, "tests")),
        symlink(join(outside, "tests"), join(at, "tests"))
      ),
    ],
    [
      "passwd -> /etc/passwd in SHA256SUMS",
      async (at) => (
        await symlink("/etc/passwd", join(at, "passwd")),
        appendFile(join(at, "SHA256SUMS"), execFileSync("sha256sum", ["passwd"], { cwd: at }))
      ),
    ],
    [
      "model.gguf -> /dev/zero",
      async (at) => (await rm(join(at, "model.gguf")), symlink("/dev/zero", join(at, "model.gguf"))),
    ],
    [
      "a listed FIFO",
      async (at) => (
        execFileSync("mkfifo", [join(at, "pipe")]),
        appendFile(join(at, "SHA256SUMS"), `${"0".repeat(64)}  pipe\n`)
      ),
    ],
    ["an unlisted FIFO", async (at) => execFileSync("mkfifo", [join(at, "pipe")])],
    ["a symbolic link loop", async (at) => (await symlink("b", join(at, "a")), symlink("a", join(at, "b")))],
  ];
  for (const [name, make] of variants) {
    const at = await copy();
    await make(at);
    const run = await cli(["verify-bundle", at]);
    record(area, name, run.code === 1 && run.ms < 15_000 && noStack(run), `exit ${run.code} in ${run.ms} ms`);
  }
}

function send(url, { method = "POST", headers = { "content-type": "application/json" }, body } = {}) {
  const target = new URL(url);
  return new Promise((done) => {
    const req = request({ host: target.hostname, port: target.port, path: target.pathname, method, headers }, (res) => {
      let text = "";
      res.on("data", (c) => (text += c));
      res.on("end", () => done({ status: res.statusCode, headers: res.headers, body: text }));
    });
    req.on("error", () => done({ status: 0, headers: {}, body: "" }));
    req.end(body);
  });
}

async function serve() {
  const area = "serve: hostile requests refused, valid ones answered";
  const child = spawn(process.execPath, [CLI, "serve", "--bundle", BUNDLE, "--port", "0", "--max-queue", "4"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const url = await new Promise((done) => {
    let text = "";
    const on = (d) => {
      text += d;
      const m = /serving \S+ at (http:\/\/\S+\/v1)/.exec(text);
      if (m) done(m[1]);
    };
    child.stdout.on("data", on);
    child.stderr.on("data", on);
  });
  const name = /^name: (.+)$/m.exec(await readFile(join(BUNDLE, "agent.yaml"), "utf8"))[1].replace(/^["']|["']$/g, "");
  const valid = { model: name, messages: [{ role: "user", content: "Show me the whole graph." }], max_tokens: 32 };
  const completions = `${url}/chat/completions`;
  const post = (body, headers) => send(completions, { body: JSON.stringify(body), ...(headers ? { headers } : {}) });
  const cases = [
    [
      "Origin: http://evil.example",
      () => post(valid, { "content-type": "application/json", origin: "http://evil.example" }),
      403,
    ],
    [
      "Host: evil.example (DNS rebinding)",
      () => post(valid, { "content-type": "application/json", host: "evil.example" }),
      403,
    ],
    ["text/plain body", () => post(valid, { "content-type": "text/plain" }), 415],
    ['tool_choice "required"', () => post({ ...valid, tool_choice: "required" }), 400],
    ["tool_choice object", () => post({ ...valid, tool_choice: { type: "function", function: { name: "x" } } }), 400],
    [
      'parameters {"type": "array"}',
      () => post({ ...valid, tools: [{ type: "function", function: { name: "f", parameters: { type: "array" } } }] }),
      400,
    ],
    ["max_tokens past the context", () => post({ ...valid, max_tokens: 1e6 }), 400],
    [
      "10k-token prompt",
      () => post({ ...valid, messages: [{ role: "user", content: "alpha beta gamma delta ".repeat(3000) }] }),
      400,
    ],
    ["5 MB message", () => post({ ...valid, messages: [{ role: "user", content: "x ".repeat(2_500_000) }] }), 400],
  ];
  for (const [label, run, status] of cases) {
    const reply = await run();
    const shaped = (() => {
      try {
        return Object.keys(JSON.parse(reply.body).error).sort().join() === "code,message,param,type";
      } catch {
        return false;
      }
    })();
    record(area, label, reply.status === status && shaped, `HTTP ${reply.status}`);
  }
  const hostile = post({ ...valid, messages: [{ role: "user", content: "x ".repeat(2_500_000) }] });
  const started = Date.now();
  const answered = await post(valid);
  record(
    area,
    "valid request within 2 s alongside a 5 MB one",
    answered.status === 200 && Date.now() - started < 2000,
    `HTTP ${answered.status} in ${Date.now() - started} ms`,
  );
  await hostile;
  const burst = await Promise.all(Array.from({ length: 12 }, () => post(valid)));
  const limited = burst.find((r) => r.status === 429);
  record(
    area,
    "a burst past --max-queue gets 429 with Retry-After",
    limited !== undefined && Number(limited.headers["retry-after"]) > 0,
    burst.map((r) => r.status).join(" "),
  );
  const stopping = Date.now();
  child.kill("SIGINT");
  await new Promise((done) => child.once("exit", done));
  record(area, "SIGINT stops it within a second", Date.now() - stopping < 1000, `${Date.now() - stopping} ms`);
}

try {
  await badInput();
  await secrets();
  if (BUNDLE) {
    await bundle();
    await serve();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
const rows = [...results].map(([area, r]) => `| ${area} | ${r.tried} | ${r.right} |`);
console.log(["| area | inputs tried | handled right |", "| --- | ---: | ---: |", ...rows].join("\n"));
for (const [area, r] of results) for (const w of r.wrong) console.log(`wrong (${area}): ${w}`);
if (!BUNDLE) console.log("(verify-bundle and serve skipped: pass --bundle <a bundle `mcp-forge pack` wrote>)");
process.exitCode = [...results.values()].every((r) => r.right === r.tried) ? 0 : 1;
