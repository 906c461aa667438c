import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";
import { parse } from "yaml";

import type { ActionStep, ActionYml } from "../support/composite.js";
import { ENTRY, ROOT } from "./runner.js";

const action = parse(readFileSync(join(ROOT, "action.yml"), "utf8")) as ActionYml;
const steps = action.runs.steps;
const text = (value: unknown) => JSON.stringify(value ?? "");
const refs = (value: unknown, re: RegExp) => [...text(value).matchAll(re)].map((m) => m.slice(1));
const sources = readdirSync(join(ROOT, "src", "action"))
  .map((f) => readFileSync(join(ROOT, "src", "action", f), "utf8"))
  .join("\n");

describe("action.yml wiring", () => {
  it("is a composite whose every input and output is documented, has a default and is used", () => {
    expect(action.runs.using).toBe("composite");
    for (const [name, input] of Object.entries(action.inputs)) {
      expect(input.description, name).toBeTruthy();
      expect(input, name).toHaveProperty("default");
      expect(text(steps), `input ${name} is never used`).toContain(`inputs.${name} }}`);
    }
    for (const [name, output] of Object.entries(action.outputs))
      expect(output.description && output.value, name).toBeTruthy();
    for (const name of ["bundle-path", "benchmark-json", "passed", "regressions", "toolset-hash", "comment-url"])
      expect(action.outputs).toHaveProperty(name);
  });

  it("references only defined inputs, earlier steps, and outputs a step sets", () => {
    const ids = steps.map((s) => s.id);
    const declared = new Set(Object.keys(action.inputs));
    for (const [name] of refs(action, /inputs\.([A-Za-z0-9_-]+)/g))
      expect(declared.has(name!), `inputs.${name}`).toBe(true);
    steps.forEach((step, index) => {
      for (const [id] of refs(step, /steps\.([A-Za-z0-9_-]+)\./g))
        expect(ids.slice(0, index), `step ${step.id ?? step.name} uses steps.${id}`).toContain(id);
    });
    for (const [id, output] of refs(action, /steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)/g)) {
      expect(ids, `steps.${id}`).toContain(id);
      expect(sources, `no step sets the output ${output} (steps.${id})`).toMatch(
        new RegExp(`core\\.setOutput\\(\\s*"${output}"`),
      );
    }
    for (const step of steps)
      for (const key of Object.keys(step.env ?? {}))
        if (key.startsWith("INPUT_")) expect(key, "runs cannot pass a name with '-'").toMatch(/^INPUT_[A-Z0-9_]+$/);
  });

  it("runs only dist/ entries and steps that exist, in pipeline order", () => {
    const usage = (() => {
      try {
        execFileSync(process.execPath, [ENTRY], { encoding: "utf8", stdio: "pipe" });
        return "";
      } catch (error) {
        return String((error as { stdout?: string }).stdout);
      }
    })();
    const known = usage.match(/expected one of (.+)$/m)?.[1]?.split(", ") ?? [];
    expect(known.length).toBeGreaterThan(0);
    const called: string[] = [];
    for (const step of steps.filter((s) => s.run)) {
      for (const [, file, name] of (step.run ?? "").matchAll(/"\$GITHUB_ACTION_PATH\/(dist\/[^"]+)" ?([a-z-]*)/g)) {
        expect(existsSync(join(ROOT, file!)), file).toBe(true);
        expect(known, `step ${name}`).toContain(name);
        called.push(name!);
      }
      expect(step.shell, "composite run steps need a shell").toBe("bash");
    }
    expect(called).toEqual([
      "setup",
      "inspect",
      "drift",
      "generate",
      "train",
      "checkpoints",
      "export",
      "validate",
      "baseline",
      "benchmark",
      "gate",
      "pack",
      "report",
      "release",
    ]);
    expect(steps[0]?.uses).toMatch(/^actions\/setup-node@/);
    expect(steps[0]?.with?.["node-version"]).toBe("24");
    expect(steps.find((s) => s.id === "report")?.if).toMatch(/always\(\)/);
  });

  it("dist/cli holds the bundled CLI the stages run", () => {
    const version = execFileSync(process.execPath, [join(ROOT, "dist", "cli", "index.js"), "--version"], {
      encoding: "utf8",
    }).trim();
    expect(version).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
  });

  it("the workflows: CI runs the tests, check-dist rebuilds dist/ and fails on a difference, self-test runs uses: ./", () => {
    const workflow = (name: string) =>
      parse(readFileSync(join(ROOT, ".github", "workflows", name), "utf8")) as {
        jobs: Record<string, { "runs-on": string; steps: ActionStep[] }>;
      };
    const runs = (name: string) => Object.values(workflow(name).jobs).flatMap((j) => j.steps.map((s) => s.run ?? ""));
    expect(runs("ci.yml").join("\n")).toContain("npx vitest run");
    const check = runs("check-dist.yml").join("\n");
    expect(check).toContain("npm run bundle");
    expect(check).toMatch(/git status --porcelain -- dist[\s\S]*exit 1/);
    const self = workflow("self-test.yml").jobs;
    const uses = Object.values(self).map((j) => ({ on: j["runs-on"], step: j.steps.find((s) => s.uses === "./") }));
    expect(uses.every((u) => u.on === "ubuntu-latest" && u.step)).toBe(true);
    expect(uses.map((u) => u.step!.with?.["server-command"]).join(" ")).toContain(
      "@modelcontextprotocol/server-memory",
    );
    expect(uses.map((u) => u.step!.with?.model)).toContain("tiny");
  });
});
