import cliProgress from "cli-progress";

import type { Counters } from "./context.js";

export interface Progress {
  update(counters: Counters): void;
  stop(counters: Counters): void;
}

const PLAIN_EVERY_MS = 2000;

/** A bar on a terminal; a plain line every few seconds otherwise (logs, CI); nothing when quiet. */
export function makeProgress(
  total: number,
  mode: "auto" | "quiet",
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  if (mode === "quiet") return { update: () => undefined, stop: () => undefined };
  const inner = makeVisible(total, stream);
  let stopped = false;
  return {
    update: (c) => !stopped && inner.update(c),
    stop: (c) => {
      if (!stopped) inner.stop(c);
      stopped = true;
    },
  };
}

function makeVisible(total: number, stream: NodeJS.WriteStream): Progress {
  const payload = (c: Counters) => ({ calls: c.toolCalls, hits: c.cacheHits, reqs: c.llmRequests });
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format:
          "samples {bar} {value}/{total} | tool calls {calls} | cache hits {hits} | LLM requests {reqs} | {eta_formatted}",
        stream,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, payload({ samples: 0, toolCalls: 0, cacheHits: 0, llmRequests: 0 }));
    return {
      update: (c) => bar.update(c.samples, payload(c)),
      stop: (c) => {
        bar.update(c.samples, payload(c));
        bar.stop();
      },
    };
  }
  let last = Date.now();
  const line = (c: Counters) =>
    `generate: ${c.samples}/${total} samples, ${c.toolCalls} tool calls, ${c.cacheHits} cache hits, ${c.llmRequests} LLM requests\n`;
  return {
    update: (c) => {
      if (Date.now() - last < PLAIN_EVERY_MS) return;
      last = Date.now();
      stream.write(line(c));
    },
    stop: (c) => stream.write(line(c)),
  };
}
