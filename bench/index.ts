import { cpus } from "node:os";

/** One benchmark: measures and returns named figures (ms, per second, …) for docs/benchmarks.md. */
export interface Bench {
  name: string;
  /** `only`: the words after the bench's name on the command line (e.g. which servers). */
  run(only: string[]): Promise<Record<string, number | string>>;
}

/**
 * Every benchmark `npm run bench` knows; `npm run bench -- <name>` runs the ones whose name matches,
 * and `npm run bench -- <name> <word>…` hands them the words (see each bench).
 */
const BENCHES: Array<() => Promise<Bench>> = [
  async () => (await import("./tools-import.js")).bench,
  async () => (await import("./inspect.js")).inspectBench(),
  async () => (await import("./data.js")).dataBench(),
  async () => (await import("./bundle.js")).bundleBench(),
  async () => (await import("./eval.js")).evalBench(),
  async () => (await import("./serve.js")).serveBench(),
  async () => (await import("./action.js")).actionDriftBench(),
  async () => (await import("./action.js")).actionSelfTestBench(),
  async () => (await import("./train.js")).trainBench(),
  async () => (await import("./train.js")).trainEstimateBench(),
];

async function main(filter: string | undefined, only: string[]): Promise<void> {
  console.log(
    `# ${new Date().toISOString()} · ${cpus().length}× ${cpus()[0]?.model ?? "cpu"} · Node ${process.version}`,
  );
  for (const load of BENCHES) {
    const bench = await load();
    if (filter && !bench.name.includes(filter)) continue;
    const figures = await bench.run(only);
    console.log(`\n## ${bench.name}`);
    for (const [key, value] of Object.entries(figures)) console.log(`- ${key}: ${value}`);
  }
}

await main(process.argv[2], process.argv.slice(3));
