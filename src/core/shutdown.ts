import { ExitCode } from "./errors.js";

type Cleanup = () => void | Promise<void>;
const cleanups = new Set<Cleanup>();
let installed = false;
let shuttingDown = false;

/**
 * Registers work to do when the user presses Ctrl-C or the process gets SIGTERM (kill child
 * processes, save state). Returns a function that unregisters it once the work is done normally.
 */
export function onShutdown(cleanup: Cleanup): () => void {
  install();
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/**
 * The listeners stay installed for the life of the process: signal-exit (pulled in by
 * node-llama-cpp) re-raises a signal when it finds itself the only listener, which would kill the
 * process before the cleanup finished. A second signal exits at once.
 */
function install(): void {
  if (installed) return;
  installed = true;
  const handler = (signal: NodeJS.Signals) => {
    if (shuttingDown) process.exit(ExitCode.interrupted);
    shuttingDown = true;
    process.stderr.write(`\n${signal === "SIGINT" ? "interrupted" : "terminated"}: cleaning up…\n`);
    void Promise.allSettled([...cleanups].map(async (c) => c())).then(() => process.exit(ExitCode.interrupted));
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}
