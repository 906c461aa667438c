#!/usr/bin/env bash
# System tools the tests use that npm and pip cannot bring: Go's text/template renders the bundle's
# Ollama Modelfile in a test, as Ollama itself would. Installed only when missing and apt is usable.
set -euo pipefail
if command -v go >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq golang-go >/dev/null
else
  echo "note: Go is not installed; the Modelfile template test needs it (Debian/Ubuntu: apt-get install golang-go)" >&2
fi
