"""``evallock compare A B``: whether two runs may be compared, and the delta."""

from __future__ import annotations

import argparse
import json

from evallock import compare, stats, store
from evallock.commands import add_format, count, project_of, run_id
from evallock.compare_text import text_lines
from evallock.errors import ConfigError
from evallock.records import check_record


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "run_a", metavar="A", type=run_id, help="first run id (or a unique prefix)"
    )
    parser.add_argument(
        "run_b", metavar="B", type=run_id, help="second run id (or a unique prefix)"
    )
    parser.add_argument(
        "--items",
        type=count,
        default=20,
        metavar="N",
        help="list at most N changed items in text output (default: 20; 0 for none)",
    )
    parser.add_argument(
        "--resamples",
        type=int,
        default=stats.RESAMPLES,
        metavar="N",
        help=f"bootstrap resamples for the interval (default: {stats.RESAMPLES})",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=stats.SEED,
        help=f"seed of the bootstrap, so intervals repeat (default: {stats.SEED})",
    )
    add_format(parser, ("text", "json"))


def run(args: argparse.Namespace) -> int:
    if args.resamples < 1:
        raise ConfigError(f"--resamples {args.resamples} must be at least 1")
    project = project_of(args)
    policy = compare.policy_of(project)
    run_a = store.load(project, args.run_a)
    run_b = store.load(project, args.run_b)
    # A record with prefix-cache hits (or caching on) cannot back any claim,
    # so the command refuses it, as `show` does; the UI still lists it.
    check_record(run_a)
    check_record(run_b)
    result = compare.compare_runs(run_a, run_b, policy, args.resamples, args.seed)
    if args.format == "json":
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return 0
    header = (
        f"A {run_a.id} ({run_a.record.get('created', '?')})  "
        f"B {run_b.id} ({run_b.record.get('created', '?')})"
    )
    print("\n".join([header, *text_lines(result, args.items)]))
    return 0
