"""``evallock log``: stored runs, newest first."""

from __future__ import annotations

import argparse
import json

from evallock import store
from evallock.commands import add_format, count, project_of


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-n",
        "--max-count",
        type=count,
        default=None,
        metavar="N",
        help="show at most N runs",
    )
    add_format(parser, ("text", "json"))


def run(args: argparse.Namespace) -> int:
    project = project_of(args)
    runs = store.list_runs(project, args.max_count)
    if args.format == "json":
        print(json.dumps([run.data for run in runs], indent=2))
        return 0
    if not runs:
        print("no stored runs yet; start one with `evallock run`")
        return 0
    for run in runs:
        data = run.data
        score = f"{run.score:.4f}" if run.score is not None else "  n/a "
        source = (data.get("source_commit") or "no commit")[:10]
        flags = []
        if data.get("dirty"):
            flags.append("dirty")
        if data.get("drifted"):
            flags.append("drifted")
        if data.get("noise"):
            flags.append(f"noise ±{data['noise'].get('score_stdev', 0):.4f}")
        suffix = f"  ({', '.join(flags)})" if flags else ""
        print(f"{run.id}  {data.get('created', '?')}  score {score}  {source}{suffix}")
    return 0
