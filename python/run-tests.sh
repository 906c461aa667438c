#!/usr/bin/env bash
# Runs the trainer's pytest suite in python/.venv (npm run test:python). No tests collected is a failure.
set -uo pipefail
cd "$(dirname "$0")"
VENV="${MCP_FORGE_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "python/.venv is missing: run \`npm run setup:python\` first" >&2
  exit 3
fi
"$VENV/bin/python" -m pytest -q "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests" >&2
  exit 1
fi
exit "$status"
