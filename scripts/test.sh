#!/usr/bin/env bash
# Set up .venv (first time only) and run the whole test suite, real vLLM included.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
cd "$root"
exec .venv/bin/python -m pytest "$@"
