"""Run the benchmarks and rewrite their section of docs/benchmarks.md.

Usage, from the repository root: ``.venv/bin/python -m bench.run [--only NAME ...]``
(``bash bench/run.sh`` checks the tools first). Results of each benchmark are
kept in ``bench/out/results/NAME.json``, so running one benchmark again
rewrites its rows and keeps the others.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import cases_files, cases_run, cases_store, harness, report

ROOT = Path(__file__).resolve().parent.parent
Case = Callable[[Path, Path, int], dict[str, Any]]
CASES: dict[str, Case] = {
    "lock": cases_files.lock_speed,
    "verify": cases_files.verify_speed,
    "memory": cases_files.lock_memory,
    "store": cases_store.store_speed,
    "run": cases_run.run_speed,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument(
        "--rounds", type=int, default=15, help="interleaved rounds per comparison"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "bench" / "out",
        help="folder for data files and scratch repositories (needs about 7 GB)",
    )
    args = parser.parse_args(argv)
    hints = harness.missing_tools()
    if hints:
        print("\n".join(hints), file=sys.stderr)
        return 2
    harness.prepare_environment()
    results = args.out / "results"
    results.mkdir(parents=True, exist_ok=True)
    for name in args.only:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        outcome = CASES[name](ROOT, args.out, args.rounds)
        outcome["machine"] = harness.machine()
        (results / f"{name}.json").write_text(json.dumps(outcome, indent=1))
        print(json.dumps(outcome, indent=1), file=sys.stderr)
    report.write(ROOT / "docs" / "benchmarks.md", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
