import { type ChildProcess, spawn } from "node:child_process";

import { CLI, ROOT } from "../support/cli.js";

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `mcp-forge serve --bundle <bundle> --port 0` as its own process, once it prints its URL. */
export function startServe(bundle: string, args: string[] = []): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, "serve", "--bundle", bundle, "--port", "0", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (data: Buffer) => {
      text += data.toString();
      const match = /serving \S+ at (http:\/\/\S+\/v1)/.exec(text);
      if (match) {
        resolve({
          child,
          url: match[1]!,
          output: () => text,
          stop: (signal = "SIGTERM") => {
            child.kill(signal);
            return exited;
          },
        });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    void exited.then((code) => reject(new Error(`serve exited ${code} before printing its URL:\n${text}`)));
  });
}
