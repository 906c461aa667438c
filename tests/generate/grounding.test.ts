import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { VALUE_SOURCES } from "../../src/samples/sample.js";
import { generateDataset } from "../../src/stages/generate/generate.js";
import { Rng } from "../../src/stages/generate/rng.js";
import {
  fitsFormat,
  type HintFormat,
  isTimezone,
  parseDescriptionHints,
  valueForFormat,
} from "../../src/stages/generate/values/description-hints.js";
import { Grounding } from "../../src/stages/generate/values/grounding.js";
import { paramKind } from "../../src/stages/generate/values/param-kind.js";
import { ArgGenerator } from "../../src/stages/generate/values/schema-args.js";
import { semanticValue } from "../../src/stages/generate/values/semantic.js";
import { allowedValuesIn, ServerValues } from "../../src/stages/generate/values/server-values.js";

const fixture = (name: string) => `node ${resolve(import.meta.dirname, "../fixtures/servers", name)}`;
const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "forge-grounding-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe("description hints", () => {
  it("reads quoted and bare examples and named formats", () => {
    expect(
      parseDescriptionHints("IANA timezone name (e.g., 'America/New_York', 'Europe/London'). Use 'UTC' if none given."),
    ).toEqual({
      examples: ["America/New_York", "Europe/London"],
      format: "timezone",
    });
    expect(parseDescriptionHints("Time to convert in 24-hour format (HH:MM)").format).toBe("hh:mm");
    expect(parseDescriptionHints("Start date in ISO 8601 format").format).toBe("date");
    expect(parseDescriptionHints("When it happened, an ISO 8601 timestamp").format).toBe("date-time");
    expect(parseDescriptionHints("Price in cents").format).toBe("cents");
    expect(parseDescriptionHints("The branch, e.g. main or develop").examples).toEqual(["main", "develop"]);
    expect(parseDescriptionHints("A name of the thing")).toEqual({ examples: [] });
  });

  it("property: a quoted example after e.g. is read back exactly", () => {
    const example = fc.stringMatching(/^[A-Za-z0-9_/+-][A-Za-z0-9_/+ -]{0,20}[A-Za-z0-9_/+-]$/);
    fc.assert(
      fc.property(
        example,
        fc.constantFrom("e.g. ", "e.g., ", "for example ", "such as "),
        fc.constantFrom("'", '"'),
        (value, lead, quote) => {
          expect(parseDescriptionHints(`The value to use (${lead}${quote}${value}${quote}).`).examples).toEqual([
            value,
          ]);
        },
      ),
    );
  });

  it("property: every value made for a named format is in that format", () => {
    const formats: HintFormat[] = [
      "hh:mm",
      "hh:mm:ss",
      "date",
      "date-time",
      "month",
      "timezone",
      "cents",
      "unix-seconds",
    ];
    fc.assert(
      fc.property(fc.constantFrom(...formats), fc.integer(), (format, seed) => {
        expect(fitsFormat(format, valueForFormat(format, new Rng(seed)))).toBe(true);
      }),
    );
  });

  it("property: described time zones and times are valid, whatever the seed, the mode and the schema's length bounds", () => {
    const schema = {
      type: "object",
      properties: {
        timezone: { type: "string", description: "IANA timezone name (e.g., 'America/New_York')" },
        time: { type: "string", description: "Time to convert in 24-hour format (HH:MM)", maxLength: 5 },
      },
      required: ["timezone", "time"],
    };
    const gen = new ArgGenerator(schema, "test", new Grounding("convert"));
    fc.assert(
      fc.property(fc.integer(), fc.constantFrom("standard" as const, "edge" as const), (seed, mode) => {
        const { value, sources } = gen.draw(new Rng(seed), mode);
        expect(isTimezone(value.timezone as string), String(value.timezone)).toBe(true);
        expect(value.time).toMatch(HH_MM);
        expect(["description", "semantic"]).toContain(sources.timezone);
        expect(sources.time).toBe("description");
      }),
    );
  });
});

describe("semantic providers", () => {
  it("read a parameter's kind from its name and description", () => {
    expect(paramKind("timezone", undefined, false)).toBe("timezone");
    expect(paramKind("target", "Target IANA timezone name", false)).toBe("timezone");
    expect(paramKind("repo_path", undefined, false)).toBe("repo");
    expect(paramKind("filePath", undefined, false)).toBe("path");
    expect(paramKind("sql", undefined, false)).toBe("sql");
    expect(paramKind("query", "The SQL query to run", false)).toBe("sql");
    expect(paramKind("query", "Search text", false)).toBe("query");
    expect(paramKind("createdAt", undefined, false)).toBe("datetime");
    expect(paramKind("updates", undefined, false)).toBeUndefined();
    expect(paramKind("limit", undefined, true)).toBe("quantity");
    expect(paramKind("city", undefined, true)).toBeUndefined();
  });

  it("property: every value is valid for its kind, and paths stay inside the server's roots", () => {
    const values = new ServerValues();
    values.addRoot("/srv/share");
    const checks: Array<[string, string | undefined, (v: unknown) => boolean]> = [
      ["timezone", undefined, (v) => isTimezone(v as string)],
      ["start_time", undefined, (v) => HH_MM.test(v as string)],
      ["due_date", undefined, (v) => /^\d{4}-\d{2}-\d{2}$/.test(v as string) && !Number.isNaN(Date.parse(v as string))],
      ["created_at", undefined, (v) => !Number.isNaN(Date.parse(v as string))],
      ["email", undefined, (v) => /^[a-z.]+@[a-z.]+\.[a-z]+$/.test(v as string)],
      ["url", undefined, (v) => new URL(v as string).protocol === "https:"],
      ["currency", undefined, (v) => /^[A-Z]{3}$/.test(v as string)],
      ["country", "ISO 3166 two-letter country code", (v) => /^[A-Z]{2}$/.test(v as string)],
      ["file_path", undefined, (v) => (v as string).startsWith("/srv/share/")],
      ["directory", undefined, (v) => (v as string).startsWith("/srv/share/")],
      ["sql", undefined, (v) => /^SELECT /.test(v as string)],
    ];
    fc.assert(
      fc.property(fc.integer(), fc.constantFrom(...checks), (seed, [name, description, valid]) => {
        const kind = paramKind(name, description, false)!;
        const made = semanticValue(
          kind,
          { name, ...(description ? { description } : {}), numeric: false, integer: false },
          new Rng(seed),
          values,
        );
        expect(made && valid(made.value), `${name}: ${made?.value}`).toBe(true);
      }),
    );
  });
});

describe("server values", () => {
  it("a listing's size column is not part of a file name", () => {
    const values = new ServerValues();
    values.harvest(
      "[FILE] README.md                      10 B\n[FILE] my notes.txt 1.2 KB\n[DIR] docs\n[DIR] old stuff  (empty)",
      { path: "/srv/data" },
    );
    expect(values.files).toEqual(["/srv/data/README.md", "/srv/data/my notes.txt"]);
    expect(values.dirs).toEqual(["/srv/data/docs", "/srv/data/old stuff"]);
  });

  it("branches a listing shows become the values of git ref parameters", () => {
    const values = new ServerValues();
    values.harvest("* main\n  feature/login-form\n  release/2.0\n", { repo_path: "/srv/repo" }, "git_branch");
    expect(values.valuesFor("git_checkout", "branch_name", "gitref")).toEqual([
      "main",
      "feature/login-form",
      "release/2.0",
    ]);
  });

  it("a list the server answered feeds the items of a list parameter of that name, -es plurals included", () => {
    const values = new ServerValues();
    values.harvest('{"addresses": ["1 Main St", "2 High St"], "branches": ["main", "dev"]}', {});
    const list = { type: "array", items: { type: "string" }, minItems: 1, maxItems: 2 };
    const gen = new ArgGenerator(
      { type: "object", properties: { addresses: list, branches: list }, required: ["addresses", "branches"] },
      "test",
      new Grounding("update_contact", values),
    );
    for (let seed = 0; seed < 10; seed++) {
      const { value } = gen.draw(new Rng(seed), "standard", "prefer");
      for (const a of value.addresses as string[]) expect(["1 Main St", "2 High St"]).toContain(a);
      for (const b of value.branches as string[]) expect(["main", "dev"]).toContain(b);
    }
  });

  it("an error naming the allowed values feeds the next draw of that parameter", () => {
    expect(allowedValuesIn("Invalid enum value. Expected 'celsius' | 'fahrenheit', received 'kelvin'")).toEqual([
      "celsius",
      "fahrenheit",
    ]);
    expect(allowedValuesIn("Error: no table named 'x'. Available tables: customers, invoices")).toEqual([
      "customers",
      "invoices",
    ]);
    const values = new ServerValues();
    expect(
      values.learnFromError(
        "describe",
        { table: "x" },
        "Error: no table named 'x'. Available tables: customers, invoices",
      ),
    ).toBe(true);
    const gen = new ArgGenerator(
      { type: "object", properties: { table: { type: "string" } }, required: ["table"] },
      "test",
      new Grounding("describe", values),
    );
    for (let seed = 0; seed < 20; seed++) {
      const { value, sources } = gen.draw(new Rng(seed));
      expect(["customers", "invoices"]).toContain(value.table);
      expect(sources.table).toBe("server");
    }
  });
});

describe("generate against a server whose descriptions give formats", () => {
  it("every time zone and time is valid, grounded in the description, and accepted by the server", async () => {
    const result = await generateDataset({
      workdir: join(scratch, "clock"),
      server: { kind: "stdio", command: fixture("clock.mjs") },
      samples: 80,
      seed: 3,
      progress: "quiet",
      gate: false,
    });
    const samples = [result.trainPath, result.evalPath].flatMap((p) => p).map((p) => p);
    let calls = 0;
    for (const path of samples) {
      for (const line of (await readFile(path, "utf8")).trim().split("\n")) {
        const s = JSON.parse(line);
        const call = s.messages.find((m: { tool_calls?: unknown[] }) => m.tool_calls)?.tool_calls[0];
        if (!call) continue;
        calls++;
        const args = call.function.arguments as Record<string, string>;
        for (const key of ["timezone", "source_timezone", "target_timezone"]) {
          if (key in args) expect(isTimezone(args[key]!), `${key}: ${args[key]}`).toBe(true);
        }
        if ("time" in args) expect(args.time).toMatch(HH_MM);
        for (const source of Object.values(s.argSources as Record<string, string>))
          expect(["server", "schema", "description", "semantic"]).toContain(source);
        expect(VALUE_SOURCES).toContain(Object.values(s.argSources)[0]);
      }
    }
    expect(calls).toBeGreaterThan(40);
    for (const [tool, tally] of Object.entries(result.serverSuccess)) expect(tally.succeeded, tool).toBe(tally.calls);
  });
});
