import { ExitCode } from "../core/errors.js";

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * Keeps a SIGINT/SIGTERM listener of our own while a model is loaded. node-llama-cpp pulls in
 * signal-exit, which re-raises the signal (killing the process on the spot) when it sees itself as
 * the last listener, and the shutdown handler of src/core/shutdown.ts is a `once` listener that is
 * gone by then; with ours in place the shutdown cleanup gets to finish. A second signal exits at once.
 */
export function holdSignalsForCleanup(): () => void {
  let received = 0;
  const listener = () => {
    received += 1;
    if (received > 1) process.exit(ExitCode.interrupted);
  };
  for (const signal of SIGNALS) process.on(signal, listener);
  return () => {
    for (const signal of SIGNALS) process.off(signal, listener);
  };
}
