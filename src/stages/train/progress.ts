import cliProgress from "cli-progress";

import type { TrainerEvent } from "../../core/trainer-process.js";
import { estimateOf, estimateText } from "./budget.js";

/** Renders the trainer's events: a progress bar on a terminal, plain lines otherwise. */
export interface ProgressView {
  onEvent(event: TrainerEvent): void;
  stop(): void;
}

const fmt = (n: unknown, digits = 4) => (typeof n === "number" ? n.toFixed(digits) : "-");
const eta = (s: unknown) =>
  typeof s === "number" ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s` : "-";

export function makeProgressView(stream: NodeJS.WriteStream = process.stderr, quiet = false): ProgressView {
  const tty = Boolean(stream.isTTY) && !quiet;
  let bar: cliProgress.SingleBar | undefined;
  let lastPlain = 0;
  const say = (text: string) => {
    if (!quiet) stream.write(`${text}\n`);
  };
  const stopBar = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    onEvent(e) {
      switch (e.event) {
        case "start":
          stopBar();
          say(
            `${String(e.phase)}: ${String(e.model ?? e.baseModel ?? "")} on ${String(e.device ?? "cpu")} (${String(e.backend ?? "")})` +
              (e.trainableParameters
                ? `, ${Number(e.trainableParameters).toLocaleString("en")} trainable parameters`
                : ""),
          );
          break;
        case "step": {
          const total = Number(e.total ?? 0);
          const step = Number(e.step ?? 0);
          const payload = {
            loss: fmt(e.loss),
            tps: fmt(e.tokensPerSecond, 0),
            etaText: eta(e.etaSeconds),
            phase: String(e.phase ?? ""),
          };
          if (tty) {
            if (!bar) {
              bar = new cliProgress.SingleBar(
                {
                  format: "{phase} [{bar}] {value}/{total} | loss {loss} | {tps} tok/s | eta {etaText}",
                  stream,
                  hideCursor: true,
                },
                cliProgress.Presets.shades_classic,
              );
              bar.start(total, step, payload);
            }
            bar.setTotal(total);
            bar.update(step, payload);
          } else if (step === total || Date.now() - lastPlain > 5000 || step === 1) {
            lastPlain = Date.now();
            say(
              e.stage
                ? `${payload.phase}: ${String(e.stage)} (${step}/${total})`
                : `${payload.phase} step ${step}/${total} loss ${payload.loss} ${payload.tps} tok/s eta ${payload.etaText}`,
            );
          }
          break;
        }
        case "checkpoint":
          if (!tty) say(`checkpoint: ${String(e.path)}`);
          break;
        case "estimate":
          stopBar();
          say(estimateText(estimateOf(e)!));
          break;
        case "budget_reached":
          stopBar();
          say(
            `${String(e.phase)}: the time budget is reached at step ${String(e.step)} of ${String(e.total)}; stopping here`,
          );
          break;
        case "oom":
          stopBar();
          say(`out of memory: retrying with ${JSON.stringify(e.next)}`);
          break;
        case "warning":
          stopBar();
          say(`warning: ${String(e.message)}`);
          break;
        case "done":
        case "error":
          stopBar();
          break;
      }
    },
    stop: stopBar,
  };
}
