"""``evallock run``: verify, run one cold vLLM evaluation, score it and store it."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from evallock import report
from evallock.cli import EXIT_DRIFT, EXIT_OK
from evallock.commands import project_of
from evallock.errors import RunError
from evallock.runner import evaluate


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-drift",
        action="store_true",
        help="run even if the inputs differ from eval.lock; the result is marked "
        "drifted",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="run N cold times, varying max_num_seqs and request order, and store "
        "the noise band (default: 1)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop a worker that runs longer than this (default: [run] timeout)",
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format"
    )


class _Progress:
    """Prints worker progress events on stderr."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def __call__(self, event: dict[str, Any]) -> None:
        if self.quiet:
            return
        kind = event.get("event")
        if kind == "attempt" and event.get("of", 1) > 1:
            line = (
                f"repeat {event['index']}/{event['of']} "
                f"(max_num_seqs {event['max_num_seqs']})"
            )
        elif kind == "loading":
            line = "starting a cold vLLM worker and loading the model"
        elif kind == "loaded":
            line = f"model loaded in {event.get('seconds', 0):.1f} s"
        elif kind == "generating":
            line = f"generating {event.get('count', '?')} outputs"
        elif kind == "generated":
            line = f"generated {event.get('count', '?')} outputs"
            if "seconds" in event:
                line += f" in {event['seconds']:.1f} s"
        else:
            return
        print(f"evallock: {line}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    project = project_of(args)
    if args.repeat < 1:
        raise RunError(f"--repeat {args.repeat} must be 1 or more")
    # "not >" also rejects nan, which compares false with everything.
    if args.timeout is not None and not args.timeout > 0:
        raise RunError(
            f"--timeout {args.timeout:g} must be a number of seconds above 0"
        )
    options = evaluate.Options(
        allow_drift=args.allow_drift,
        repeat=args.repeat,
        timeout=args.timeout,
        on_event=_Progress(args.quiet or args.format == "json"),
    )
    try:
        run_id, record = evaluate.execute(project, options)
    except evaluate.DriftRefused as refused:
        if args.format == "json":
            print(report.as_json(refused.changes, refused=True))
        elif not args.quiet:
            print(report.as_text(refused.changes, "eval.lock"), file=sys.stderr)
        print(f"evallock: {refused}", file=sys.stderr)
        return EXIT_DRIFT
    if args.format == "json":
        print(
            json.dumps(
                {
                    "id": run_id,
                    "score": record["score"],
                    "evals": record["evals"],
                    "noise": record["noise"],
                },
                indent=2,
            )
        )
    elif not args.quiet:
        print(summary_line(run_id, record))
    return EXIT_OK


def summary_line(run_id: str, record: dict[str, Any]) -> str:
    parts = [f"run {run_id}: score {record['score']:.4f}"]
    for name, entry in record["evals"].items():
        parts.append(f"{name} {entry['score']:.4f} on {entry['count']} items")
    if record.get("noise"):
        noise = record["noise"]
        parts.append(
            f"noise band over {noise['repeats']} runs: {noise['changed_share']:.1%} of "
            f"outputs changed, score {noise['score_min']:.4f}..{noise['score_max']:.4f}"
        )
    if record.get("drifted"):
        parts.append("marked drifted")
    parts.append(f"prefix-cache hits {record['prefix_cache']['hits']}")
    return "; ".join(parts)
