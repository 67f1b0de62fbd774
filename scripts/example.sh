#!/usr/bin/env bash
# Set up .venv (first time only), then verify the bundled example against its
# committed eval.lock, run one cold vLLM evaluation, and show the stored result.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
cd "$root"
evallock=.venv/bin/evallock

"$evallock" verify
"$evallock" run
"$evallock" log -n 3
"$evallock" show "$("$evallock" log --format json -n 1 | .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')" --items 5
