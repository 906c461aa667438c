"""The progress protocol: one JSON object a line on stdout; human logs go to stderr."""

import json
import logging
import os
import sys
import time
from collections.abc import Callable

log = logging.getLogger("mcp_forge_trainer")
# The protocol owns stdout: libraries that print (transformers' PrinterCallback, tqdm) go to stderr.
_PROTOCOL_OUT = sys.stdout


def claim_stdout() -> None:
    sys.stdout = sys.stderr


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "urllib3", "filelock", "datasets"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def emit(event: str, **fields) -> None:
    """Writes one protocol event. Under `accelerate launch` only the main process reports."""
    if os.environ.get("RANK", "0") != "0":
        return
    record = {"event": event, "time": round(time.time(), 3), **fields}
    _PROTOCOL_OUT.write(json.dumps(record, default=str) + "\n")
    _PROTOCOL_OUT.flush()


class TrainerError(Exception):
    """A failure the user can act on. `kind` maps to an exit code on the TypeScript side:
    bad_input → 2, environment / model_not_found / oom → 3, interrupted → 130."""

    def __init__(self, kind: str, message: str, hint: str | None = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.hint = hint


EXIT_CODES = {"bad_input": 2, "environment": 3, "model_not_found": 3, "oom": 3, "interrupted": 130}


def fail(error: TrainerError) -> int:
    emit("error", kind=error.kind, message=error.message, hint=error.hint)
    log.error("%s%s", error.message, f" (hint: {error.hint})" if error.hint else "")
    return EXIT_CODES.get(error.kind, 1)


def run_command(command: Callable[[], object], verbose: bool = False) -> int:
    """Runs one command on the protocol (the trainer's, or a benchmark's): logs on stderr, stdout kept
    for events, and a failure reported as an `error` event. Returns the process's exit code."""
    setup_logging(verbose)
    claim_stdout()
    try:
        command()
        return 0
    except TrainerError as error:
        return fail(error)
    except KeyboardInterrupt:
        return fail(TrainerError("interrupted", "interrupted", "run again with --resume"))
    except Exception as error:  # noqa: BLE001 - reported on the protocol, then re-raised for the traceback
        log.exception("trainer crashed")
        emit(
            "error",
            kind="internal",
            message=f"{type(error).__name__}: {error}",
            hint="this is a bug in the trainer; the traceback is on stderr",
        )
        return 1
