import { ExitCode } from "./errors.js";

type Cleanup = () => void | Promise<void>;
const cleanups = new Set<Cleanup>();
let installed = false;

/**
 * Registers work to do when the user presses Ctrl-C or the process gets SIGTERM (kill child
 * processes, save state). Returns a function that unregisters it once the work is done normally.
 */
export function onShutdown(cleanup: Cleanup): () => void {
  install();
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

function install(): void {
  if (installed) return;
  installed = true;
  const handler = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal === "SIGINT" ? "interrupted" : "terminated"}: cleaning up…\n`);
    void Promise.allSettled([...cleanups].map(async (c) => c())).then(() => process.exit(ExitCode.interrupted));
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
}
