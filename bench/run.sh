#!/usr/bin/env bash
# Run every benchmark and rewrite the generated section of docs/benchmarks.md.
# Needs .venv (bash scripts/setup.sh) and hyperfine, xxhsum, md5sum, git and
# GNU time; it checks for them and says how to install any that is missing,
# but installs nothing. Arguments go to bench/run.py, e.g. `--only lock`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ ! -x "$root/.venv/bin/evallock" ]]; then
    echo "bench: $root/.venv is missing; run \`bash scripts/setup.sh\` first" >&2
    exit 2
fi
cd "$root"
exec .venv/bin/python -m bench.run "$@"
